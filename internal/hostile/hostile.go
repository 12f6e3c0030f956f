// Package hostile replays against a real `rolodav serve` process the
// attacks of the hostile-input review (issue 10) and measures what each
// costs the server: CPU time (including work that goes on after the client
// has left), the peak of its resident memory above what it held before, and
// the time until the attacker had its answers. Each attack also checks
// that the answer is right: a refusal with its reason, or correct data.
//
// The test in cmd/rolodav runs it with budgets; `go run ./cmd/hostile`
// prints the table of the issue note, for the binary of this tree or any
// other (--binary), so that before and after can be compared.
package hostile

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rolodav/rolodav/internal/loadtest"
)

// Login and Password of the user the attacks run as.
const (
	Login    = "victim@example.org"
	Password = "the victim's password"
)

// ServeArgs are the flags the server under attack must run with: the
// lock-out attack comes from several addresses through a proxy on the
// loopback, and the import limit is checked against 1 MB.
var ServeArgs = []string{"--trusted-proxy", "127.0.0.1", "--max-resource-size", "1000000"}

// An Attack is one replayed finding.
type Attack struct {
	Name    string // short name, for -run and the table
	Finding string // what the review found, in a line
	// Run attacks s and returns what the server answered, in a line; an
	// error means the answer was wrong (not merely slow).
	Run func(ctx context.Context, s *loadtest.Server) (string, error)
	// Verifications is how many account passwords the attack makes the
	// server verify: each costs by design about 0.2 s of CPU and 64 MiB
	// (argon2id, at most 4 at once), on top of the attack's budget.
	Verifications int
}

// Budget is what an attack may cost the server: CPU and peak memory above
// the level before. base is the budget of an attack that verifies no
// password.
func (a Attack) Budget(baseCPU time.Duration, baseMem int64) (time.Duration, int64) {
	return baseCPU + time.Duration(a.Verifications)*250*time.Millisecond, baseMem + int64(min(a.Verifications, 4))*64<<20
}

// Result is what one attack cost.
type Result struct {
	Attack  Attack
	Outcome string
	Err     error
	CPU     time.Duration // server CPU, user and system, until it was idle again
	Peak    int64         // bytes of resident memory above the level before
	Wall    time.Duration // until the attack had its answers
}

// Setup prepares s for the attacks: the user's own device signs in from
// the loopback (so that address is known), the book holds two cards with
// 100 000 phone numbers each, imported with the CLI, and an empty book
// takes the uploads.
func Setup(ctx context.Context, s *loadtest.Server) error {
	c := newClient(s)
	if _, err := c.dav(ctx, "PROPFIND", "/dav/addressbooks/"+Login+"/", "", "Depth", "0"); err != nil {
		return fmt.Errorf("setup: first sign-in: %w", err)
	}
	// The uploads go to a book of their own: importing into a book costs
	// what reading the book costs, which is not what is measured there.
	a, err := c.dav(ctx, "MKCOL", uploadBook, `<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:set><D:prop>`+
		`<D:resourcetype><D:collection/><C:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>`)
	if err != nil || a.status != http.StatusCreated {
		return fmt.Errorf("setup: MKCOL: %v %v", a, err)
	}
	dir, err := os.MkdirTemp("", "hostile")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := dir + "/huge.vcf"
	if err := os.WriteFile(path, []byte(hugeCards()), 0o600); err != nil {
		return err
	}
	if out, err := s.CLI("", "import", "--user", Login, "--book", "contacts", path); err != nil {
		return fmt.Errorf("setup: import: %v\n%s", err, out)
	}
	return nil
}

// Run runs each attack in turn, each under timeout, and measures it.
func Run(ctx context.Context, s *loadtest.Server, attacks []Attack, timeout time.Duration) []Result {
	var out []Result
	for _, a := range attacks {
		settle(s.Pid(), 10*time.Second)
		cpu0, _ := cpuTime(s.Pid())
		rss0 := memory(s.Pid(), "VmRSS:")
		s.ResetPeak()
		actx, cancel := context.WithTimeout(ctx, timeout)
		start := time.Now()
		outcome, err := a.Run(actx, s)
		wall := time.Since(start)
		cancel()
		if err == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %v", timeout)
		}
		// Work that goes on after the client left counts: wait for the
		// server to be idle again.
		settle(s.Pid(), 2*timeout)
		cpu1, _ := cpuTime(s.Pid())
		out = append(out, Result{Attack: a, Outcome: outcome, Err: err, CPU: cpu1 - cpu0,
			Peak: max(memory(s.Pid(), "VmHWM:")-rss0, 0), Wall: wall})
	}
	return out
}

// settle waits until the process used less than 30 ms of CPU in 300 ms,
// or limit passed.
func settle(pid int, limit time.Duration) {
	end := time.Now().Add(limit)
	last, err := cpuTime(pid)
	if err != nil {
		return
	}
	for time.Now().Before(end) {
		time.Sleep(300 * time.Millisecond)
		now, err := cpuTime(pid)
		if err != nil || now-last < 30*time.Millisecond {
			return
		}
		last = now
	}
}

// cpuTime reads a process's user and system CPU time from /proc.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which may hold spaces: state is the
	// 3rd field of the line, utime the 14th and stime the 15th.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / ticks, nil
}

// memory reads a size field (VmRSS:, VmHWM:) of /proc/PID/status in bytes.
func memory(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
