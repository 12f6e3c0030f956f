package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/rolodav/rolodav/internal/accounts"
	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/dav"
	"github.com/rolodav/rolodav/internal/guard"
	"github.com/rolodav/rolodav/internal/httplog"
	"github.com/rolodav/rolodav/internal/imapauth"
	"github.com/rolodav/rolodav/internal/mailer"
	"github.com/rolodav/rolodav/internal/maintenance"
	"github.com/rolodav/rolodav/internal/notices"
	"github.com/rolodav/rolodav/internal/push"
	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/database"
	"github.com/rolodav/rolodav/internal/web"
)

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	loc := addStoreFlags(fs)
	listen := fs.String("listen", "127.0.0.1:5232", "address to listen on")
	baseURL := fs.String("base-url", "", "public URL when behind a reverse proxy, e.g. https://example.org/dav-prefix")
	tlsCert := fs.String("tls-cert", "", "TLS certificate file (PEM); serve HTTPS with --tls-key")
	tlsKey := fs.String("tls-key", "", "TLS private key file (PEM)")
	logFormat := fs.String("log-format", "text", "request log format: text or json")
	maxSize := fs.Int64("max-resource-size", 10<<20, "largest card accepted, in bytes")
	quota := quotaFlag(fs)
	region := fs.String("region", "", "default country for phone numbers without one on the duplicates page, e.g. DE or US")
	maxUpload := fs.Int64("max-upload-size", 64<<20, "largest file accepted by the import page, in bytes")
	slowAfter := fs.Int("signin-slow-after", auth.DefaultSlowAfter, "failed sign-ins after which answers are delayed")
	lockAfter := fs.Int("signin-lock-after", auth.DefaultLockAfter, "failed sign-ins of one login from one address after which that pair is refused (429); an address after 3 times as many, a login from addresses it never signed in from after twice as many")
	lockFor := fs.Duration("signin-lock-for", auth.DefaultLockFor, "how long a locked address or login is refused")
	bodyTimeout := fs.Duration("body-timeout", guard.DefaultGrace, "time a request body may take beyond what 8 KiB/s allows")
	proxyList := fs.String("trusted-proxy", "", "comma-separated addresses/CIDRs of reverse proxies whose X-Forwarded-For is believed")
	authURL := fs.String("auth", "", "mail server that checks the passwords of users not created here: imaps://host[:993], or imap://host[:143] with STARTTLS")
	authDomains := fs.String("auth-domains", "", "comma-separated domains whose logins the --auth server signs in (required with --auth)")
	authCA := fs.String("auth-ca", "", "PEM file of a CA to trust for the --auth server, besides the system's")
	smtpURL := fs.String("smtp-url", "", "SMTP relay for security mails: smtps://user:password@host[:465], or smtp://user:password@host[:587] with STARTTLS")
	smtpFrom := fs.String("smtp-from", "", `sender of security mails, e.g. "rolodav <noreply@example.org>"`)
	smtpCA := fs.String("smtp-ca", "", "PEM file of a CA to trust for the --smtp-url relay, besides the system's")
	retention := retentionFlag(fs)
	pushOn := fs.Bool("push", true, "send WebDAV-Push messages, so that phones (DAVx5) learn of changes in seconds")
	pushProxy := fs.String("push-proxy", "", "HTTP proxy to reach the push services through, e.g. http://proxy.example.org:3128")
	pushPrivate := fs.Bool("push-allow-private", false, "allow push resources on loopback, private and link-local addresses, and plain http (tests, self-hosted push servers)")
	pushSubject := fs.String("push-contact", "", "how push services reach the operator (VAPID subject): mailto:ADDRESS or an https URL; default: the --smtp-from address, or --base-url when https")
	pushSpacing := fs.Duration("push-spacing", push.DefaultSpacing, "least time between two push messages to one device for one collection; changes within it go out together")
	migratePrivate := fs.Bool("migrate-allow-private", false, "let \"Import from another provider\" on the account pages reach servers on loopback, private and link-local addresses (tests, a provider on the same network)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	proxies, err := parseProxies(*proxyList)
	if err != nil {
		return usageError{err.Error()}
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return usageError{"--tls-cert and --tls-key go together"}
	}
	remote, err := mailServer(*authURL, *authDomains, *authCA)
	if err != nil {
		return err
	}
	sender, err := smtpRelay(*smtpURL, *smtpFrom, *smtpCA)
	if err != nil {
		return err
	}
	prefix := ""
	var public *url.URL
	if *baseURL != "" {
		u, err := url.Parse(*baseURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return usageError{fmt.Sprintf("--base-url %q is not an absolute URL", *baseURL)}
		}
		prefix = strings.TrimSuffix(u.EscapedPath(), "/")
		public = u
	}
	pushOpt, err := pushOptions(*pushProxy, *pushPrivate, *pushSubject, *pushSpacing, *smtpFrom, public)
	if err != nil {
		return err
	}
	serverRegion, err := regionFlag(*region)
	if err != nil {
		return err
	}
	var handler slog.Handler = slog.NewTextHandler(stderr, nil)
	if *logFormat == "json" {
		handler = slog.NewJSONHandler(stderr, nil)
	} else if *logFormat != "text" {
		return usageError{"--log-format must be text or json"}
	}
	log := slog.New(handler)

	st, err := openStore(ctx, loc, store.Options{QuotaPerUser: int64(*quota)})
	if err != nil {
		return err
	}
	defer st.Close()
	created, err := firstRun(ctx, st, stdout)
	if err != nil {
		return err
	}
	// Push: the service answers discovery and registration; the sender
	// delivers what writes queue, woken by each request (pushWake) and
	// polling for what other processes and the command line queued.
	var pushSvc *push.Service
	var pushSender *push.Sender
	if *pushOn {
		if pushSvc, err = push.NewService(ctx, st, pushOpt); err != nil {
			return err
		}
		pushSender = push.NewSender(st, pushSvc, pushOpt, log)
	}

	// HTTPS only: the pages' cookies are Secure, and browsers are told to
	// keep to HTTPS (HSTS).
	hsts := *tlsCert != "" || (public != nil && public.Scheme == "https")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if _, err := st.ListUsers(r.Context()); err != nil {
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	authOpt := auth.Options{SlowAfter: *slowAfter, LockAfter: *lockAfter, LockFor: *lockFor,
		OnRecordError: func(err error) { log.Error("recording sign-in activity", "err", err) }}
	if remote != nil {
		authOpt.Remote, authOpt.RemoteDomains = remote.server, remote.domains
		authOpt.Provision = func(ctx context.Context, login string) (*store.User, error) {
			return accounts.CreateRemote(ctx, st, login)
		}
		log.Info("passwords of users not created here are checked by the mail server", "server", remote.server.String(),
			"domains", strings.Join(remote.domains, ","))
	}
	// The mail links need the public address, known once listening; the
	// worker starts then. Every request carries its Wake (mailWake), so a
	// notice queued while answering goes out at once.
	var worker *mailer.Worker
	authOpt.Notify = func(ctx context.Context, n store.Notice) {
		if _, err := notices.Queue(ctx, st, n); err != nil {
			log.Warn("queueing a security mail", "login", n.Login, "kind", n.Kind, "err", err)
		}
	}
	authn := auth.NewAuthenticator(st, authOpt)
	pages := web.New(web.Config{
		Store:           st,
		Auth:            authn,
		Prefix:          prefix,
		PublicURL:       public,
		Secure:          hsts,
		Region:          serverRegion,
		MaxUpload:       *maxUpload,
		MaxResourceSize: *maxSize,
		MailEnabled:     sender != nil,
		Push:            pushSvc != nil,
		Logger:          log,
		// Imports the pages started stop with the server; the store
		// closes after they recorded their end.
		Background:          ctx,
		MigrateAllowPrivate: *migratePrivate,
	})
	defer pages.Wait()
	mux.Handle(prefix+web.AccountPath, pages)
	mux.Handle(prefix+web.ProfilePath, pages)
	if prefix != "" {
		mux.Handle(web.ProfilePath, pages)
	}
	mux.Handle("GET "+prefix+"/{$}", pages)
	mux.Handle("/", dav.New(dav.Config{
		Store:           st,
		Auth:            authn,
		Prefix:          prefix,
		MaxResourceSize: *maxSize,
		QuotaAvailable:  quotaAvailable(loc),
		Push:            pushSvc,
		PublicURL:       public,
		Logger:          log,
	}))
	srv := &http.Server{
		Handler:           guard.Handler(guard.Options{HSTS: hsts, Grace: *bodyTimeout}, realClient(proxies, httplog.Middleware(log, mailWake(func() { worker.Wake() }, pushWake(pushSender, mux))))),
		ReadHeaderTimeout: 20 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(handler, slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	scheme := "http"
	if *tlsCert != "" {
		scheme = "https"
	}
	log.Info("rolodav listening", "url", fmt.Sprintf("%s://%s%s/dav/", scheme, ln.Addr(), prefix), "database", database.Redact(loc.url()))
	base := fmt.Sprintf("%s://%s%s", scheme, ln.Addr(), prefix)
	if public != nil {
		base = strings.TrimSuffix(public.String(), "/")
	} else if sender != nil {
		log.Warn("security mails link to the listening address; set --base-url to the address users know", "url", base)
	}
	links, err := mailer.NewLinks(base)
	if err != nil {
		return err
	}
	worker = mailer.NewWorker(st, sender, links, log)
	wctx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		worker.Run(wctx)
	}()
	defer func() {
		stopWorker()
		<-workerDone
	}()
	if sender != nil {
		log.Info("security mails go through the SMTP relay", "relay", sender.String())
	}
	if pushSender != nil {
		pctx, stopPush := context.WithCancel(context.WithoutCancel(ctx))
		pushDone := make(chan struct{})
		go func() {
			defer close(pushDone)
			pushSender.Run(pctx)
		}()
		defer func() {
			stopPush()
			<-pushDone
		}()
		log.Info("WebDAV-Push is on", "contact", pushOpt.Subject, "proxy", *pushProxy != "", "allow_private", *pushPrivate)
	}
	// Pruning runs beside the server, once per period among the processes
	// sharing the store; the first run comes now.
	mctx, stopMaint := context.WithCancel(ctx)
	maintDone := make(chan struct{})
	go func() {
		defer close(maintDone)
		maintenance.Run(mctx, st, maintenance.Config{Retention: time.Duration(*retention), Log: log})
	}()
	defer func() {
		stopMaint()
		<-maintDone
	}()
	if created {
		fmt.Fprintf(stdout, "Sign in as admin at %s://%s%s/ in a browser (the account pages show how to connect devices).\n", scheme, ln.Addr(), prefix)
	}

	errc := make(chan error, 1)
	go func() {
		if *tlsCert != "" {
			errc <- srv.ServeTLS(ln, *tlsCert, *tlsKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down; waiting for requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// mailWake gives every request the mail worker's Wake (notices.WithWake).
// The worker exists before the server accepts requests.
func mailWake(wake func(), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(notices.WithWake(r.Context(), wake)))
	})
}

// pushWake gives every request the push sender's Wake (store.PushHints),
// so that a message a write queues goes out at once; sender nil (push off)
// passes requests on as they are.
func pushWake(sender *push.Sender, next http.Handler) http.Handler {
	if sender == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := store.PushHintsFrom(r.Context())
		h.Wake = sender.Wake
		next.ServeHTTP(w, r.WithContext(store.WithPushHints(r.Context(), h)))
	})
}

// pushOptions reads the --push-* flags. The VAPID contact defaults to the
// sender of security mails, or the public https address.
func pushOptions(proxy string, allowPrivate bool, contact string, spacing time.Duration, smtpFrom string, public *url.URL) (push.Options, error) {
	opt := push.Options{AllowPrivate: allowPrivate, Spacing: spacing}
	if spacing <= 0 {
		return opt, usageError{"--push-spacing must be more than 0"}
	}
	if proxy != "" {
		u, err := url.Parse(proxy)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return opt, usageError{fmt.Sprintf("--push-proxy %q is not an http:// or https:// URL", proxy)}
		}
		opt.Proxy = http.ProxyURL(u)
	}
	switch {
	case contact != "":
		bad := usageError{fmt.Sprintf("--push-contact %q is neither mailto:ADDRESS nor an https://HOST URL", contact)}
		u, err := url.Parse(contact)
		if err != nil {
			return opt, bad
		}
		// Written anew from its parts: push services compare the scheme
		// as written, and webpush-go takes anything not "https:" for an
		// address.
		switch strings.ToLower(u.Scheme) {
		case "mailto":
			a, err := mail.ParseAddress(u.Opaque)
			if err != nil || u.Opaque == "" || a.Name != "" {
				return opt, bad
			}
			opt.Subject = "mailto:" + a.Address
		case "https":
			if u.Host == "" || u.User != nil {
				return opt, bad
			}
			u.Scheme, u.Host = "https", strings.ToLower(u.Host)
			opt.Subject = u.String()
		default:
			return opt, bad
		}
	case smtpFrom != "":
		if a, err := mail.ParseAddress(smtpFrom); err == nil {
			opt.Subject = "mailto:" + a.Address
		}
	case public != nil && public.Scheme == "https":
		opt.Subject = (&url.URL{Scheme: "https", Host: public.Host}).String()
	}
	return opt, nil
}

// smtpRelay reads --smtp-url and --smtp-from; nil when no relay is given.
func smtpRelay(rawURL, from, caFile string) (*mailer.Sender, error) {
	if rawURL == "" {
		if from != "" || caFile != "" {
			return nil, usageError{"--smtp-from and --smtp-ca need --smtp-url"}
		}
		return nil, nil
	}
	cfg, err := mailer.ParseURL(rawURL)
	if err != nil {
		return nil, usageError{fmt.Sprintf("--smtp-url: %v", err)}
	}
	if from == "" {
		return nil, usageError{"--smtp-url needs --smtp-from, the sender address of the mails"}
	}
	if cfg.From, err = mailer.ParseFrom(from); err != nil {
		return nil, usageError{fmt.Sprintf("--smtp-from: %v", err)}
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err == nil {
			err = cfg.AddCA(pem)
		}
		if err != nil {
			return nil, usageError{fmt.Sprintf("--smtp-ca %s: %v", caFile, err)}
		}
	}
	sender, err := mailer.NewSender(cfg)
	if err != nil {
		return nil, usageError{fmt.Sprintf("--smtp-url: %v", err)}
	}
	return sender, nil
}

// remoteAuth is what --auth, --auth-domains and --auth-ca ask for.
type remoteAuth struct {
	server  *imapauth.Server
	domains []string
}

// mailServer reads --auth, --auth-domains and --auth-ca; nil when --auth is
// not given.
func mailServer(rawURL, domains, caFile string) (*remoteAuth, error) {
	if rawURL == "" {
		if domains != "" || caFile != "" {
			return nil, usageError{"--auth-domains needs --auth, and so does --auth-ca"}
		}
		return nil, nil
	}
	srv, err := imapauth.Parse(rawURL)
	if err != nil {
		return nil, usageError{fmt.Sprintf("--auth: %v", err)}
	}
	if caFile != "" {
		if srv.RootCAs, err = imapauth.LoadCA(caFile); err != nil {
			return nil, usageError{fmt.Sprintf("--auth-ca: %v", err)}
		}
	}
	// Without a list, whoever the mail server knows under any domain would
	// get an account here, and security mails to that address.
	if strings.TrimSpace(domains) == "" {
		return nil, usageError{"--auth needs --auth-domains: the domains whose users sign in with their mail password"}
	}
	r := &remoteAuth{server: srv}
	for _, d := range strings.Split(domains, ",") {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" {
			continue
		}
		if strings.ContainsAny(d, "@/ ") || !strings.Contains(d, ".") {
			return nil, usageError{fmt.Sprintf("--auth-domains: %q is not a domain", d)}
		}
		r.domains = append(r.domains, d)
	}
	return r, nil
}

// firstRun creates an admin account when there is no user at all, and
// prints its password once: there is no other way to sign in.
func firstRun(ctx context.Context, st accounts.Store, stdout io.Writer) (created bool, err error) {
	users, err := st.ListUsers(ctx)
	if err != nil {
		return false, err
	}
	if len(users) > 0 {
		return false, nil
	}
	pw := auth.GeneratePassword()
	if err := accounts.Create(ctx, st, "admin", pw); err != nil {
		if errors.Is(err, store.ErrExists) {
			return false, nil // another server on the same database, starting at once, made it
		}
		return false, err
	}
	fmt.Fprintf(stdout, `First start: created the user "admin" with the password

    %s

It is shown only now. Change it with:  rolodav user passwd admin
Add a user with:                        rolodav user add alice@example.org
`, pw)
	return true, nil
}

func freeBytes(dir string) int64 {
	var s syscall.Statfs_t
	if err := syscall.Statfs(dir, &s); err != nil {
		return 0
	}
	return int64(s.Bavail) * int64(s.Bsize)
}

// quotaAvailable reports the free space of the SQLite database's disk; a
// PostgreSQL server's disk is not ours to see, so it is unknown.
func quotaAvailable(loc storeFlags) func() int64 {
	dir := loc.sqliteDir()
	if dir == "" {
		return nil
	}
	return func() int64 { return freeBytes(dir) }
}
