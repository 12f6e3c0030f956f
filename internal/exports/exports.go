// Package exports writes a whole collection as one file: an address book as
// a .vcf of its cards, a calendar or task list as one .ics. The command
// line, the account pages and a GET on a collection share it, so that an
// export reads the same wherever it is taken, and `rolodav import` reads it
// back.
package exports

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/rolodav/rolodav/internal/calendars"
	"github.com/rolodav/rolodav/internal/store"
)

// Write streams collection c to w: an address book as its cards one after
// the other, a calendar as one VCALENDAR with each VTIMEZONE once.
func Write(ctx context.Context, st store.Objects, c *store.Collection, w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var add func(data []byte) error
	var finish func() error
	if c.Kind == store.KindCal {
		name := c.DisplayName
		if name == "" {
			name = c.Name
		}
		j := calendars.NewJoiner(bw, name)
		add, finish = j.Add, j.Close
	} else {
		add = func(data []byte) error {
			if _, err := bw.Write(data); err != nil {
				return err
			}
			if !bytes.HasSuffix(data, []byte("\n")) {
				_, err := bw.WriteString("\r\n")
				return err
			}
			return nil
		}
		finish = func() error { return nil }
	}
	err := st.ListObjects(ctx, c.ID, true, func(o *store.Object) error { return add(o.Data) })
	if err == nil {
		err = finish()
	}
	if err != nil {
		return fmt.Errorf("export %s: %w", c.Name, err)
	}
	return bw.Flush()
}
