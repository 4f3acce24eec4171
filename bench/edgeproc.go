package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/target-go/sdk/target/targettest"
)

// edgeEnv is the environment variable that turns this program (the bench
// command or its test binary) into a local edge serving in a child
// process: its value is the edgeSpec as JSON.
const edgeEnv = "TARGET_BENCH_EDGE"

// edgeSpec is the edge a child process serves.
type edgeSpec struct {
	TLS       bool `json:"tls"`
	HTTP1Only bool `json:"http1_only"`
	// Mboxes is how many mboxes have offers: the bench's names 1..Mboxes.
	Mboxes int `json:"mboxes"`
}

// edgeHello is what the child writes on its standard output once it
// serves: where it is, and the certificate to trust for TLS.
type edgeHello struct {
	URL      string `json:"url"`
	Artifact string `json:"artifact"`
	Cert     []byte `json:"cert,omitempty"` // DER
}

// edgeProcess is a local edge in a child process. The cost figures need
// it: CPU time and allocations are counted per process, so an edge in the
// same process would add its own work (some 30 µs and 170 allocations per
// answer) to the client's.
type edgeProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan error
	// lines carries the child's answers to connections, one a line.
	lines chan []byte
	hello edgeHello
	spec  edgeSpec
	addr  string
	pool  *x509.CertPool // nil for plain HTTP
}

// serveEdgeChild is the child's whole life: it serves the edge spec
// describes until its standard input closes, which happens when the parent
// ends it or exits, so that no edge outlives its bench.
func serveEdgeChild(spec string) error {
	var s edgeSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		return fmt.Errorf("%s: %w", edgeEnv, err)
	}
	names := make([]string, s.Mboxes)
	for i := range names {
		names[i] = fmt.Sprintf("bench-mbox-%d", i+1)
	}
	// Without a cluster the client keeps calling the address it was given.
	cfg := targettest.Config{Offers: offers(names), RecordLimit: -1, NoCluster: true, HTTP1Only: s.HTTP1Only}
	var srv *targettest.Server
	if s.TLS {
		srv = targettest.NewTLSServer(cfg)
	} else {
		srv = targettest.NewServer(cfg)
	}
	defer srv.Close()
	hello := edgeHello{URL: srv.URL, Artifact: srv.ArtifactURL()}
	if c := srv.Certificate(); c != nil {
		hello.Cert = c.Raw
	}
	if err := json.NewEncoder(os.Stdout).Encode(hello); err != nil {
		return err
	}
	// Each line on standard input asks for the connections accepted so
	// far: the bench counts them at the edge, whatever transport the
	// client has.
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if _, err := fmt.Fprintf(os.Stdout, "%d\n", srv.Stats().Connections); err != nil {
			return err
		}
	}
	return nil
}

// startEdgeProcess starts this program again as an edge serving spec and
// waits for it to answer.
func startEdgeProcess(ctx context.Context, spec edgeSpec) (*edgeProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("edge process: %w", err)
	}
	js, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), edgeEnv+"="+string(js))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("edge process: %w", err)
	}
	p := &edgeProcess{spec: spec, cmd: cmd, stdin: stdin, done: make(chan error, 1), lines: make(chan []byte, 1)}
	line := make(chan error, 1)
	go func() {
		r := bufio.NewReader(stdout)
		b, err := r.ReadBytes('\n')
		if err == nil {
			err = json.Unmarshal(b, &p.hello)
		}
		line <- err
		for err == nil {
			if b, err = r.ReadBytes('\n'); err == nil {
				p.lines <- b
			}
		}
		p.done <- cmd.Wait()
	}()
	select {
	case err = <-line:
	case <-ctx.Done():
		err = ctx.Err()
	case <-time.After(30 * time.Second):
		err = errors.New("no answer in 30s")
	}
	if err != nil {
		p.close()
		return nil, fmt.Errorf("edge process: %w", err)
	}
	p.addr = strings.TrimPrefix(strings.TrimPrefix(p.hello.URL, "https://"), "http://")
	if p.hello.Cert != nil {
		cert, err := x509.ParseCertificate(p.hello.Cert)
		if err != nil {
			p.close()
			return nil, fmt.Errorf("edge process certificate: %w", err)
		}
		p.pool = x509.NewCertPool()
		p.pool.AddCert(cert)
	}
	return p, nil
}

// transport returns a new transport to the edge, set up as the client's
// own default one is (keep-alive, 100 idle connections per host, HTTP/2
// attempted over TLS), that trusts the edge's certificate and dials the
// edge whatever host a URL names.
func (p *edgeProcess) transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 200, 100
	addr := p.addr
	t.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
	if p.pool != nil {
		t.TLSClientConfig = &tls.Config{RootCAs: p.pool, MinVersion: tls.VersionTLS12}
	}
	return t
}

// connections returns the number of connections the edge has accepted.
// One caller at a time.
func (p *edgeProcess) connections() (int64, error) {
	if _, err := io.WriteString(p.stdin, "connections\n"); err != nil {
		return 0, fmt.Errorf("edge process: %w", err)
	}
	select {
	case b := <-p.lines:
		return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	case <-time.After(30 * time.Second):
		return 0, errors.New("edge process: no count in 30s")
	}
}

// close ends the child (its standard input closes) and waits for it.
func (p *edgeProcess) close() {
	_ = p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}
