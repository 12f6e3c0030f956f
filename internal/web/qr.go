package web

import (
	"bytes"
	"encoding/xml"
	"fmt"

	"rsc.io/qr"
)

// qrQuietZone is the blank margin around a QR code, in modules, that the
// standard asks for so that scanners find the code's edges.
const qrQuietZone = 4

// qrSVG draws text as a QR code in SVG, named title: one path of black
// modules (each row's runs as unit-high rectangles) on a white square.
// crispEdges keeps browsers from blurring the module borders, which
// scanners dislike.
func qrSVG(text, title string) ([]byte, error) {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return nil, fmt.Errorf("encoding QR code: %w", err)
	}
	n := code.Size + 2*qrQuietZone
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" shape-rendering="crispEdges">`,
		n, n, 4*n, 4*n)
	b.WriteString("<title>")
	_ = xml.EscapeText(&b, []byte(title)) // writes to a buffer: cannot fail
	b.WriteString("</title>")
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y := 0; y < code.Size; y++ {
		for x := 0; x < code.Size; {
			if !code.Black(x, y) {
				x++
				continue
			}
			run := 1
			for x+run < code.Size && code.Black(x+run, y) {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x+qrQuietZone, y+qrQuietZone, run, run)
			x += run
		}
	}
	b.WriteString(`"/></svg>`)
	return b.Bytes(), nil
}
