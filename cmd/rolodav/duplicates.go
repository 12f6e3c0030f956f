package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/rolodav/rolodav/calendars"
	"github.com/rolodav/rolodav/contacts"
	"github.com/rolodav/rolodav/dedup"
)

func duplicatesCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "find" {
		return usageError{"usage: rolodav duplicates find [--region CC] [--format text|json] FILE.vcf|-"}
	}
	fs := newFlags("duplicates find", stderr)
	region := fs.String("region", "", "default country for phone numbers without one, e.g. DE or US")
	format := fs.String("format", "text", "text (for people) or json")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"duplicates find needs one FILE.vcf (or - for standard input)"}
	}
	if *format != "text" && *format != "json" {
		return usageError{"--format must be text or json"}
	}
	name, in, closeIn, err := openInput(pos[0], stdin)
	if err != nil {
		return err
	}
	defer closeIn()
	progress := newProgress(stderr)
	var cards []dedup.Card
	names := map[string]string{}
	err = contacts.Split(in, func(card []byte, line int) error {
		info, err := contacts.Validate(card)
		if err != nil {
			at, msg := problemAt(line, err)
			fmt.Fprintf(stderr, "%s:%d: card skipped: %s\n", name, at, msg)
			return nil
		}
		uid := info.UID
		if uid == "" {
			uid = fmt.Sprintf("line-%d", line) // exports often carry no UID
		}
		cards = append(cards, dedup.Card{UID: uid, Data: card})
		names[uid] = info.FN
		progress.step("reading", len(cards))
		return ctx.Err()
	})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	progress.done(fmt.Sprintf("read %d cards; comparing", len(cards)))
	groups, err := dedup.Find(cards, dedup.Options{Region: strings.ToUpper(*region)})
	if err != nil {
		return err
	}
	progress.done("")
	if *format == "json" {
		if groups == nil {
			groups = []dedup.Group{}
		}
		enc := json.NewEncoder(stdout)
		return enc.Encode(struct {
			Cards  int           `json:"cards"`
			Groups []dedup.Group `json:"groups"`
		}{len(cards), groups})
	}
	fmt.Fprintf(stdout, "%d cards, %d groups of possible duplicates\n", len(cards), len(groups))
	for _, g := range groups {
		fmt.Fprintf(stdout, "\n%s  %s  score %.2f\n", g.ID, g.Band, g.Score)
		for _, uid := range g.UIDs {
			fmt.Fprintf(stdout, "  %-32s %s\n", names[uid], uid)
		}
	}
	return nil
}

// progress draws a one-line counter on a terminal and nothing otherwise.
type progress struct {
	w  io.Writer
	on bool
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, on: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *progress) step(what string, n int) {
	if p.on && n%500 == 0 {
		fmt.Fprintf(p.w, "\r%s… %d", what, n)
	}
}

func (p *progress) done(msg string) {
	if !p.on {
		return
	}
	fmt.Fprintf(p.w, "\r\033[K%s", msg)
	if msg == "" {
		return
	}
	fmt.Fprint(p.w, "…")
}

// openInput opens FILE, or standard input for "-", and names it for messages.
func openInput(arg string, stdin io.Reader) (name string, r io.Reader, closeFn func(), err error) {
	if arg == "-" {
		return "standard input", stdin, func() {}, nil
	}
	f, err := os.Open(arg)
	if err != nil {
		return "", nil, nil, err
	}
	return arg, f, func() { f.Close() }, nil
}

// problemAt turns a validation error of an object that starts at line into
// the line in the file and a message without the object-relative line.
func problemAt(line int, err error) (int, string) {
	var ce *contacts.ValidationError
	var ke *calendars.ValidationError
	switch {
	case errors.As(err, &ce):
		return fileLine(line, ce.Line), ce.Msg
	case errors.As(err, &ke):
		return fileLine(line, ke.Line), ke.Msg
	}
	return line, err.Error()
}

func fileLine(start, within int) int {
	if within > 0 {
		return start + within - 1
	}
	return start
}
