package main_test

import (
	"context"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/hostile"
	"github.com/rolodav/rolodav/internal/loadtest"
)

// TestHostile replays the hostile-input review's attacks against the real
// binary: each must get a right answer within a budget of server CPU and
// memory. The budgets are far above what the server spends (see
// `go run ./cmd/hostile`: under 0.5 s and 50 MB each) and far below what
// the attacks cost before they were fixed (from 1 GB and 45 s up).
func TestHostile(t *testing.T) {
	if testing.Short() {
		t.Skip("replays attacks against a real server")
	}
	srv, err := loadtest.Start(binary, hostile.Login, hostile.Password, hostile.ServeArgs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	ctx := context.Background()
	if err := hostile.Setup(ctx, srv); err != nil {
		t.Fatal(err)
	}
	for _, a := range hostile.Attacks {
		t.Run(a.Name, func(t *testing.T) {
			r := hostile.Run(ctx, srv, []hostile.Attack{a}, time.Minute)[0]
			t.Logf("%s: CPU %v, peak +%s, answered in %v: %s", a.Finding, r.CPU, loadtest.MB(r.Peak), r.Wall.Round(time.Millisecond), r.Outcome)
			if r.Err != nil {
				t.Error(r.Err)
			}
			cpu, mem := a.Budget(3*time.Second, 100<<20)
			if raceEnabled { // the race detector's own cost
				cpu, mem = 8*cpu, 4*mem
			}
			if r.CPU > cpu {
				t.Errorf("server CPU %v, budget %v", r.CPU, cpu)
			}
			if r.Peak > mem {
				t.Errorf("server memory +%s, budget %s", loadtest.MB(r.Peak), loadtest.MB(mem))
			}
		})
	}
}
