package meta

import (
	"crypto/x509"
	"encoding/pem"
)

// DecryptKey returns the PEM private key, decrypted with password when it is encrypted the
// traditional way (Proc-Type: 4,ENCRYPTED), as KEDA's keyPassword does.
func DecryptKey(keyPEM, password string) ([]byte, error) {
	block, _ := pem.Decode([]byte(keyPEM))
	if block == nil {
		return nil, &ParamError{Param: "key", Problem: "holds no PEM block", Fix: "give the PEM text of the private key (-----BEGIN ... PRIVATE KEY-----...)"}
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" {
		return nil, &ParamError{Param: "key", Problem: "is an encrypted PKCS#8 key, which is not supported",
			Fix: "store it decrypted (openssl pkcs8 -in key.pem -out plain.pem), or encrypted the traditional way (openssl ec -aes256 / openssl rsa -aes256) with keyPassword"}
	}
	//nolint:staticcheck // legacy PEM encryption is what keyPassword is for
	if !x509.IsEncryptedPEMBlock(block) {
		return []byte(keyPEM), nil
	}
	if password == "" {
		return nil, &ParamError{Param: "keyPassword", Problem: "is required: key is encrypted", Fix: "set the TriggerAuthentication parameter keyPassword to the key's passphrase"}
	}
	//nolint:staticcheck // legacy PEM encryption is what keyPassword is for
	der, err := x509.DecryptPEMBlock(block, []byte(password))
	// The traditional encryption has no integrity check: its padding test lets about one wrong
	// passphrase in 256 through, yielding bytes that are no key. Those count as a wrong passphrase.
	if err != nil || !isPrivateKey(der) {
		return nil, &ParamError{Param: "keyPassword", Problem: "does not decrypt key", Fix: "set keyPassword to the passphrase key was encrypted with"}
	}
	return pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: der}), nil
}

// isPrivateKey reports whether der is a private key in one of the encodings a PEM key holds.
func isPrivateKey(der []byte) bool {
	if _, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return true
	}
	if _, err := x509.ParseECPrivateKey(der); err == nil {
		return true
	}
	_, err := x509.ParsePKCS8PrivateKey(der)
	return err == nil
}
