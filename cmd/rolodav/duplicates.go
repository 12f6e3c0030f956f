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
	name, in := pos[0], stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	} else {
		name = "standard input"
	}
	progress := newProgress(stderr)
	var cards []dedup.Card
	names := map[string]string{}
	err = contacts.Split(in, func(card []byte, line int) error {
		info, err := contacts.Validate(card)
		if err != nil {
			at, msg := line, err.Error()
			var ve *contacts.ValidationError
			if errors.As(err, &ve) {
				msg = ve.Msg
				if ve.Line > 0 {
					at = line + ve.Line - 1 // the line in the file, not in the card
				}
			}
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
