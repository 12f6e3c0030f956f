package hostile

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"

	"github.com/rolodav/rolodav/internal/loadtest"
)

// client talks to the server as the user's devices and browser do.
type client struct {
	s    *loadtest.Server
	http *http.Client
	// login and password of DAV requests; from (if set) is the address
	// the loopback proxy reports in X-Forwarded-For.
	login, password, from string
}

func newClient(s *loadtest.Server) *client {
	jar, _ := cookiejar.New(nil)
	return &client{s: s, http: &http.Client{Jar: jar, Transport: &http.Transport{}}, login: Login, password: Password}
}

// answer is a response read whole (bounded: attacks' answers may be big).
type answer struct {
	status int
	header http.Header
	body   string
}

const maxAnswer = 64 << 20

func (c *client) do(req *http.Request) (*answer, error) {
	if c.from != "" {
		req.Header.Set("X-Forwarded-For", c.from)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, err
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: string(b)}, nil
}

// dav sends a DAV request with Basic credentials; hdr are name, value pairs.
func (c *client) dav(ctx context.Context, method, path, body string, hdr ...string) (*answer, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.s.URL+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(c.login, c.password)
	if body != "" {
		req.Header.Set("Content-Type", "application/xml; charset=utf-8")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return c.do(req)
}

// put stores an object.
func (c *client) put(ctx context.Context, path, contentType, data string) (*answer, error) {
	return c.dav(ctx, "PUT", path, data, "Content-Type", contentType)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// page gets an account page and returns it with the form token it holds.
func (c *client) page(ctx context.Context, path string) (*answer, string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.s.URL+path, nil)
	if err != nil {
		return nil, "", err
	}
	a, err := c.do(req)
	if err != nil {
		return nil, "", err
	}
	token := ""
	if m := csrfRE.FindStringSubmatch(a.body); m != nil {
		token = m[1]
	}
	return a, token, nil
}

// post sends a form to an account page.
func (c *client) post(ctx context.Context, path string, form url.Values) (*answer, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", c.s.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// upload posts a multipart form with the token and a file.
func (c *client) upload(ctx context.Context, path, token, filename string, data []byte) (*answer, error) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.WriteField("csrf", token)
	fw, _ := mw.CreateFormFile("file", filename)
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, err := http.NewRequestWithContext(ctx, "POST", c.s.URL+path, &b)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

// signIn signs in to the account pages with the account password.
func (c *client) signIn(ctx context.Context) error {
	_, token, err := c.page(ctx, "/account/signin")
	if err != nil {
		return err
	}
	a, err := c.post(ctx, "/account/signin", url.Values{"login": {c.login}, "password": {c.password}, "csrf": {token}})
	if err != nil {
		return err
	}
	if a.status != http.StatusOK || !strings.Contains(a.body, "Sign out") {
		return fmt.Errorf("web sign-in: %d %.300s", a.status, a.body)
	}
	return nil
}
