package meta

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"testing"
)

// TestWrongKeyPasswordIsAlwaysRefused: the traditional PEM encryption lets about one wrong
// passphrase in 256 through its padding check; each of 600 wrong ones must still be refused as
// a wrong keyPassword (and the right one accepted).
func TestWrongKeyPasswordIsAlwaysRefused(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	//nolint:staticcheck // the legacy encryption keyPassword is for
	block, err := x509.EncryptPEMBlock(rand.Reader, "EC PRIVATE KEY", der, []byte("right"), x509.PEMCipherAES256)
	if err != nil {
		t.Fatal(err)
	}
	encrypted := string(pem.EncodeToMemory(block))
	if _, err := DecryptKey(encrypted, "right"); err != nil {
		t.Fatalf("the right passphrase: %v", err)
	}
	for i := range 600 {
		_, err := DecryptKey(encrypted, fmt.Sprintf("wrong-%d", i))
		var pe *ParamError
		if !errors.As(err, &pe) || pe.Param != "keyPassword" {
			t.Fatalf("passphrase wrong-%d: error %v, want keyPassword refused", i, err)
		}
	}
}
