// Command hostile replays the attacks of the hostile-input review against
// a real `rolodav serve` process and prints, per attack, what the server
// answered and what it cost: CPU time (until it was idle again), peak
// memory above its level before, and the time until the answers came.
// Run it on another build with --binary to compare before and after.
// Usage: go run ./cmd/hostile [--binary PATH] [--run REGEXP] [--timeout 60s]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"time"

	"github.com/rolodav/rolodav/internal/hostile"
	"github.com/rolodav/rolodav/internal/loadtest"
)

func main() {
	binary := flag.String("binary", "", "rolodav binary to attack (default: build ./cmd/rolodav)")
	run := flag.String("run", "", "attack only those whose name matches this regular expression")
	timeout := flag.Duration("timeout", time.Minute, "give up on an attack's answers after this long")
	flag.Parse()
	if err := attack(*binary, *run, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		os.Exit(1)
	}
}

func attack(binary, run string, timeout time.Duration) error {
	re, err := regexp.Compile(run)
	if err != nil {
		return err
	}
	var attacks []hostile.Attack
	for _, a := range hostile.Attacks {
		if re.MatchString(a.Name) {
			attacks = append(attacks, a)
		}
	}
	if binary == "" {
		// Built once, not for every server.
		dir, err := os.MkdirTemp("", "hostile")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		binary = dir + "/rolodav"
		if out, err := exec.Command("go", "build", "-o", binary, "./cmd/rolodav").CombinedOutput(); err != nil {
			return fmt.Errorf("build: %v\n%s", err, out)
		}
	}
	fmt.Println("| attack | server CPU | peak memory | answered in | outcome |")
	fmt.Println("|---|---|---|---|---|")
	failed := 0
	for _, a := range attacks {
		// A fresh server for each: work an attack leaves behind must not
		// be charged to the next.
		r, err := once(binary, a, timeout)
		if err != nil {
			return err
		}
		outcome := r.Outcome
		if r.Err != nil {
			failed++
			outcome = "WRONG: " + r.Err.Error()
		}
		fmt.Printf("| %s | %.2f s | +%s | %.2f s | %s |\n", a.Name, r.CPU.Seconds(), loadtest.MB(r.Peak), r.Wall.Seconds(), outcome)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d attacks got a wrong answer", failed, len(attacks))
	}
	return nil
}

func once(binary string, a hostile.Attack, timeout time.Duration) (hostile.Result, error) {
	srv, err := loadtest.Start(binary, hostile.Login, hostile.Password, hostile.ServeArgs...)
	if err != nil {
		return hostile.Result{}, err
	}
	defer srv.Stop()
	ctx := context.Background()
	if err := hostile.Setup(ctx, srv); err != nil {
		return hostile.Result{}, err
	}
	return hostile.Run(ctx, srv, []hostile.Attack{a}, timeout)[0], nil
}
