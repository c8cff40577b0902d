package app

import (
	"strings"
	"testing"
)

func TestMemberAddress(t *testing.T) {
	for _, tc := range []struct {
		name      string
		peer      PeerOptions
		wantAddr  string
		wantError string
	}{
		{name: "pod IP and the peer port", peer: PeerOptions{Port: 9666, AdvertiseAddress: "10.1.2.3", ReplicaID: "keda-operator-0"}, wantAddr: "10.1.2.3:9666"},
		{name: "IPv6 pod IP", peer: PeerOptions{Port: 9666, AdvertiseAddress: "fd00::5", ReplicaID: "p"}, wantAddr: "[fd00::5]:9666"},
		{name: "an advertised port of its own (a proxy)", peer: PeerOptions{Port: 9666, AdvertiseAddress: "10.1.2.3:19666", ReplicaID: "p"}, wantAddr: "10.1.2.3:19666"},
		{name: "the bind address when nothing is advertised", peer: PeerOptions{Port: 9666, BindAddress: "127.0.0.1", ReplicaID: "p"}, wantAddr: "127.0.0.1:9666"},
		{name: "nothing to advertise", peer: PeerOptions{Port: 9666, ReplicaID: "p"}, wantError: "--peer-advertise-address is empty"},
		{name: "all interfaces is not an address", peer: PeerOptions{Port: 9666, BindAddress: "0.0.0.0", ReplicaID: "p"}, wantError: "POD_IP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{Peer: tc.peer}
			m, err := o.member()
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Address != tc.wantAddr {
				t.Errorf("address = %q, want %q", m.Address, tc.wantAddr)
			}
			if !strings.HasPrefix(m.ID, tc.peer.ReplicaID+"_") || len(m.ID) <= len(tc.peer.ReplicaID)+1 {
				t.Errorf("ID = %q, want %s_<random>", m.ID, tc.peer.ReplicaID)
			}
		})
	}
}
