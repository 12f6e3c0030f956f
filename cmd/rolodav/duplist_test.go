package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rolodav/rolodav/internal/dedup/gen"
)

// duplistCards is the size of the book of the duplist browser scenario.
const duplistCards = 5000

// prepareDuplist imports a generated book of duplistCards cards with
// their duplicates (internal/dedup/gen) into alice's address book, with
// the CLI before the server starts: one process writing, no HTTP. The
// scenario times the first page of groups, so the server (and the import)
// are a build without the race detector, which slows the matcher many
// times over.
func prepareDuplist(t *testing.T, data string) string {
	bin := plainBinary(t)
	var vcf strings.Builder
	for _, c := range gen.Generate(gen.Options{Cards: duplistCards, Seed: 1}).Cards {
		vcf.Write(c.Data)
	}
	cmd := exec.Command(bin, "import", "--user", browserUser, "--data", data, "-")
	cmd.Stdin = strings.NewReader(vcf.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("importing the generated book: %v\n%s", err, out)
	}
	return bin
}

var plain struct {
	once sync.Once
	bin  string
	err  error
}

// plainBinary is rolodav built without the race detector: the binary
// under test when the tests are not run with -race, else one built once.
func plainBinary(t *testing.T) string {
	if !raceEnabled {
		return binary
	}
	plain.once.Do(func() {
		plain.bin = filepath.Join(filepath.Dir(binary), "rolodav-norace")
		out, err := exec.Command("go", "build", "-o", plain.bin, ".").CombinedOutput()
		if err != nil {
			plain.err = err
			os.Stderr.Write(out)
		}
	})
	if plain.err != nil {
		t.Fatalf("building rolodav without -race: %v", plain.err)
	}
	return plain.bin
}
