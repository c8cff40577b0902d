package resolve

import (
	"bufio"
	"context"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	vaultserver "github.com/kedactl/kedactl/test/servers/vault"
)

// TestVaultClientPerIdentity: resolves of one address and authentication reuse one client and
// its connection (a resync of many TriggerAuthentications does not open a connection each);
// another token gets a client of its own; neither key shows the token.
func TestVaultClientPerIdentity(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Vault server")
	}
	srv := vaultserver.Start(t)
	ctx := context.Background()
	if err := srv.Write(ctx, "secret/data/redis", map[string]any{"data": map[string]any{"password": vaultSecret}}); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	spec := func(token string) *kedav1alpha1.HashiCorpVault {
		return &kedav1alpha1.HashiCorpVault{Address: srv.Addr, Authentication: "token", Credential: &kedav1alpha1.HashiCorpVaultCredential{Token: token},
			Secrets: []kedav1alpha1.HashiCorpVaultSecret{{Parameter: "password", Type: "secretV2", Path: "secret/data/redis", Key: "password"}}}
	}
	const resolves = 20
	resolveN := func(t *testing.T, vault func() *Vault) int {
		t.Helper()
		before := establishedTo(t, port)
		for range resolves {
			got, err := vault().Resolve(ctx, "app", spec(srv.RootToken))
			if err != nil || got["password"] != vaultSecret {
				t.Fatalf("got %v, %v", got, err)
			}
		}
		return establishedTo(t, port) - before
	}
	// Before: a client, and so a transport and a connection, per resolve.
	without := resolveN(t, func() *Vault { return &Vault{} })
	shared := &Vault{}
	with := resolveN(t, func() *Vault { return shared })
	t.Logf("%d resolves: %d connections left open with a client per resolve, %d with one client per identity", resolves, without, with)
	if with != 1 {
		t.Errorf("%d connections after %d resolves of one identity, want 1", with, resolves)
	}

	first, err := shared.client("app", spec(srv.RootToken))
	if err != nil {
		t.Fatal(err)
	}
	other, err := shared.client("app", spec("another-token"))
	if err != nil {
		t.Fatal(err)
	}
	if len(shared.clients) != 2 || first == other {
		t.Errorf("%d clients for two tokens, want 2", len(shared.clients))
	}
	for key := range shared.clients {
		if strings.Contains(key, srv.RootToken) || strings.Contains(key, "another-token") {
			t.Errorf("a client's key shows its token: %q", key)
		}
	}
	// A token read after the other client's was set is still its own.
	if first.Token() != srv.RootToken {
		t.Error("the clients of two tokens share their token")
	}
}

// establishedTo counts this machine's established TCP connections to port, from the client
// side.
func establishedTo(t *testing.T, port int) int {
	t.Helper()
	n := 0
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(file)
		if os.IsNotExist(err) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			// sl local_address rem_address st ...; 01 is ESTABLISHED.
			if len(fields) < 4 || fields[3] != "01" {
				continue
			}
			_, remPort, ok := strings.Cut(fields[2], ":")
			if p, err := strconv.ParseInt(remPort, 16, 32); ok && err == nil && int(p) == port {
				n++
			}
		}
		f.Close()
	}
	return n
}
