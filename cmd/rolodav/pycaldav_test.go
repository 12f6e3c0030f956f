package main_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// pythonCaldav is Debian's interpreter: python3-caldav installs into its
// dist-packages, which a pyenv or venv python would not see.
const pythonCaldav = "/usr/bin/python3"

// pythonEnv is the environment without variables that would point the
// system interpreter at another installation.
func pythonEnv() []string {
	var env []string
	for _, e := range os.Environ() {
		if strings.HasPrefix(e, "PYTHONPATH=") || strings.HasPrefix(e, "PYTHONHOME=") || strings.HasPrefix(e, "VIRTUAL_ENV=") {
			continue
		}
		env = append(env, e)
	}
	return append(env, "PYTHONDONTWRITEBYTECODE=1")
}

// TestPythonCaldavClient runs a python-caldav 0.11 session (the Debian
// package python3-caldav) against the real binary: discovery, calendar
// creation, events with a time zone and a weekly recurrence, todos, date
// searches with and without expansion, free-busy, lookups by UID, edits,
// deletions and sync-token synchronisation. The steps and their checks are
// in testdata/pycaldav_scenario.py.
func TestPythonCaldavClient(t *testing.T) {
	check := exec.Command(pythonCaldav, "-c", "import caldav")
	check.Env = pythonEnv()
	if out, err := check.CombinedOutput(); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("%s cannot import caldav (apt-get install python3-caldav): %v %s", pythonCaldav, err, out)
		}
		t.Fatalf("CI: %s cannot import caldav; the CI script must install python3-caldav: %v\n%s", pythonCaldav, err, out)
	}

	data := t.TempDir()
	const user, password = "pat@example.org", "pat caldav password"
	if _, errOut, code := cli(t, password+"\n", "user", "add", user, "--data", data, "--password-stdin"); code != 0 {
		t.Fatalf("user add: %d %s", code, errOut)
	}
	d := start(t, data)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, pythonCaldav, "testdata/pycaldav_scenario.py", d.url+"/dav/", user, password)
	cmd.Env = pythonEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python-caldav scenario failed (%v):\n%s\n--- server log (last lines) ---\n%s", err, out, lastLines(d.log(), 40))
	}
	if !strings.Contains(string(out), "OK: ") {
		t.Fatalf("python-caldav scenario did not finish:\n%s", out)
	}
	t.Logf("python-caldav scenario:\n%s", out)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
