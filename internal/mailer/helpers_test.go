package mailer

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/rolodav/rolodav/internal/mailer/mailtest"
)

// senderFor is a Sender for rawURL, PORT standing for the test server's.
func senderFor(t *testing.T, srv *mailtest.Server, rawURL string, ca []byte) *Sender {
	t.Helper()
	cfg, err := ParseURL(strings.ReplaceAll(rawURL, "PORT", strconv.Itoa(srv.Port)))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.From, err = ParseFrom("rolodav <noreply@example.org>"); err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = 10 * time.Second
	if ca != nil {
		if err := cfg.AddCA(ca); err != nil {
			t.Fatal(err)
		}
	}
	s, err := NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var smtpErr554 = smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Message refused"}
