package testca

import (
	"crypto/tls"
	"testing"
)

// TestHandshake: a client with ClientConfig and a server with ServerConfig requiring client
// certificates complete mutual TLS on 127.0.0.1; a client of another CA is refused.
func TestHandshake(t *testing.T) {
	f, err := New("test CA")
	if err != nil {
		t.Fatal(err)
	}
	other, err := New("other CA")
	if err != nil {
		t.Fatal(err)
	}
	serverCfg := f.ServerConfig()
	serverCfg.ClientAuth = tls.RequireAndVerifyClientCert
	ln, err := tls.Listen("tcp", "127.0.0.1:0", serverCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			_, _ = c.Write([]byte("ok"))
			c.Close()
		}
	}()
	for _, tc := range []struct {
		name   string
		client *Files
		ok     bool
	}{{"same CA", f, true}, {"other CA", other, false}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.client.ClientConfig()
			cfg.RootCAs = f.pool()
			c, err := tls.Dial("tcp", ln.Addr().String(), cfg)
			if err == nil {
				buf := make([]byte, 2)
				_, err = c.Read(buf)
				c.Close()
			}
			if (err == nil) != tc.ok {
				t.Errorf("handshake error %v, want success %v", err, tc.ok)
			}
		})
	}
}
