package certs

import (
	"net"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	const certValidity, renewBefore = 90 * 24 * time.Hour, 30 * 24 * time.Hour
	want := sans{dnsNames: []string{"keda-operator.keda.svc", "localhost"}, ips: []net.IP{net.ParseIP("127.0.0.1")}}
	ca, err := newAuthority(now, 365*24*time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	otherCA, err := newAuthority(now, 365*24*time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(a *authority, names sans) (certPEM, keyPEM []byte) {
		c, k, err := a.issue(names, now, certValidity)
		if err != nil {
			t.Fatal(err)
		}
		return c, k
	}
	certPEM, keyPEM := issue(ca, want)
	valid := material{certPEM: certPEM, keyPEM: keyPEM, caPEM: ca.bundlePEM, caKeyPEM: ca.keyPEM}
	with := func(f func(*material)) material {
		m := valid
		f(&m)
		return m
	}

	tests := []struct {
		name       string
		mat        material
		want       sans
		at         time.Time
		wantAction action
		wantReason Reason
	}{
		{name: "empty", mat: material{}, want: want, at: now, wantAction: actionRenewAll, wantReason: ReasonMissing},
		{name: "valid", mat: valid, want: want, at: now, wantAction: actionKeep, wantReason: ReasonValid},
		{name: "valid just before the renewal window", mat: valid, want: want, at: now.Add(certValidity - renewBefore - time.Second), wantAction: actionKeep, wantReason: ReasonValid},
		{name: "certificate in the renewal window", mat: valid, want: want, at: now.Add(certValidity - renewBefore), wantAction: actionRenewCert, wantReason: ReasonCertExpiring},
		{name: "certificate expired", mat: valid, want: want, at: now.Add(certValidity + time.Hour), wantAction: actionRenewCert, wantReason: ReasonCertExpiring},
		{name: "CA in the renewal window", mat: valid, want: want, at: now.Add(365*24*time.Hour - renewBefore), wantAction: actionRenewAll, wantReason: ReasonCAExpiring},
		{name: "DNS name added", mat: valid, want: sans{dnsNames: append([]string{"keda-operator.other.svc"}, want.dnsNames...), ips: want.ips}, at: now, wantAction: actionRenewCert, wantReason: ReasonSANsChanged},
		{name: "IP added", mat: valid, want: sans{dnsNames: want.dnsNames, ips: []net.IP{net.ParseIP("::1")}}, at: now, wantAction: actionRenewCert, wantReason: ReasonSANsChanged},
		{name: "name removed is kept", mat: valid, want: sans{dnsNames: want.dnsNames[:1]}, at: now, wantAction: actionKeep, wantReason: ReasonValid},
		{name: "DNS names compare case-insensitively", mat: valid, want: sans{dnsNames: []string{"LOCALHOST"}}, at: now, wantAction: actionKeep, wantReason: ReasonValid},
		{name: "garbage certificate", mat: with(func(m *material) { m.certPEM = []byte("garbage") }), want: want, at: now, wantAction: actionRenewCert, wantReason: ReasonCertUnreadable},
		{name: "missing key", mat: with(func(m *material) { m.keyPEM = nil }), want: want, at: now, wantAction: actionRenewCert, wantReason: ReasonCertUnreadable},
		{name: "key of another certificate", mat: with(func(m *material) { _, m.keyPEM = issue(ca, want) }), want: want, at: now, wantAction: actionRenewCert, wantReason: ReasonCertUnreadable},
		{name: "certificate of another CA", mat: with(func(m *material) { m.certPEM, m.keyPEM = issue(otherCA, want) }), want: want, at: now, wantAction: actionRenewCert, wantReason: ReasonCertNotSignedByCA},
		{name: "garbage CA", mat: with(func(m *material) { m.caPEM = []byte("garbage") }), want: want, at: now, wantAction: actionRenewAll, wantReason: ReasonCAUnreadable},
		{name: "CA key of another CA", mat: with(func(m *material) { m.caKeyPEM = otherCA.keyPEM }), want: want, at: now, wantAction: actionRenewAll, wantReason: ReasonCAUnreadable},
		{name: "missing CA key", mat: with(func(m *material) { m.caKeyPEM = nil }), want: want, at: now, wantAction: actionRenewAll, wantReason: ReasonCAUnreadable},
		{name: "leaf in place of the CA", mat: with(func(m *material) { m.caPEM, m.caKeyPEM = m.certPEM, m.keyPEM }), want: want, at: now, wantAction: actionRenewAll, wantReason: ReasonCAUnreadable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decide(tt.mat, tt.want, tt.at, renewBefore)
			if d.action != tt.wantAction || d.reason != tt.wantReason {
				t.Fatalf("decide = %s (%s: %s), want %s (%s)", d.action, d.reason, d.detail, tt.wantAction, tt.wantReason)
			}
			if (d.action == actionRenewAll) != (d.ca == nil) {
				t.Errorf("decide returned CA %v for action %s", d.ca != nil, d.action)
			}
		})
	}
}

func TestIssue(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	ca, err := newAuthority(now, 24*time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	names := sans{dnsNames: []string{"a.example"}, ips: []net.IP{net.ParseIP("10.0.0.1")}}
	certPEM, _, err := ca.issue(names, now, 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := firstCertificate(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !cert.NotAfter.Equal(ca.cert.NotAfter) {
		t.Errorf("NotAfter = %s, want the CA's %s", cert.NotAfter, ca.cert.NotAfter)
	}
	if want := now.Add(-clockSkew); !cert.NotBefore.Equal(want) {
		t.Errorf("NotBefore = %s, want %s", cert.NotBefore, want)
	}
	if cert.SerialNumber.BitLen() > 128 || cert.SerialNumber.Sign() <= 0 {
		t.Errorf("serial %s is not a positive 128-bit number", cert.SerialNumber)
	}
	if cert.Subject.CommonName != "a.example" || cert.IsCA {
		t.Errorf("subject %q, IsCA %v", cert.Subject.CommonName, cert.IsCA)
	}
}
