package resolve

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	smfake "github.com/kedactl/kedactl/test/servers/secretsmanager"
)

func secretRef(name, key string) *kedav1alpha1.SecretValue {
	return &kedav1alpha1.SecretValue{ValueFrom: kedav1alpha1.ValueFromSecret{SecretKeyRef: kedav1alpha1.SecretKeyRef{Name: name, Key: key}}}
}

func authReader(t *testing.T, objs ...client.Object) client.Reader {
	t.Helper()
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = kedav1alpha1.AddToScheme(scheme)
	return fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
}

func TestAWSSecretManager(t *testing.T) {
	const (
		keyID   = "AKIDFAKE0001"
		secret  = "fake-secret-access-key"
		session = "fake-session-token"
	)
	srv := smfake.Start(smfake.Options{Region: "eu-west-1", AccessKeyID: keyID, SecretAccessKey: secret, SessionToken: session})
	defer srv.Close()
	first := srv.PutSecret("db", "pw-one-s3cret")
	second := srv.PutSecret("db", "pw-two-s3cret")
	srv.LabelVersion("db", first, "OLD")
	srv.PutSecret("json", `{"password":"json-s3cret","port":5432}`)
	srv.PutSecret("plain", "not-json-s3cret")

	creds := &kedav1alpha1.AwsSecretManagerCredentials{AccessKey: secretRef("aws", "id"), AccessSecretKey: secretRef("aws", "key"), AccessToken: secretRef("aws", "token")}
	reader := authReader(t,
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "aws"}, Data: map[string][]byte{"id": []byte(keyID), "key": []byte(secret), "token": []byte(session), "wrong": []byte("nope")}},
	)
	aws := &AWSSecrets{LoadConfig: func(context.Context) (aws.Config, error) {
		return aws.Config{BaseEndpoint: aws.String(srv.URL)}, nil
	}}
	r := &Resolver{Reader: reader, AWS: aws}
	sensitive := []string{secret, session, "s3cret"}

	for _, tc := range []struct {
		name    string
		spec    kedav1alpha1.AwsSecretManager
		want    map[string]string
		wantErr []string
	}{
		{name: "current version, whole string", spec: kedav1alpha1.AwsSecretManager{Region: "eu-west-1", Credentials: creds,
			Secrets: []kedav1alpha1.AwsSecretManagerSecret{{Parameter: "password", Name: "db"}}},
			want: map[string]string{"password": "pw-two-s3cret"}},
		{name: "by ARN, versionId, versionStage", spec: kedav1alpha1.AwsSecretManager{Region: "eu-west-1", Credentials: creds,
			Secrets: []kedav1alpha1.AwsSecretManagerSecret{
				{Parameter: "byArn", Name: srv.ARN("db")},
				{Parameter: "byID", Name: "db", VersionID: first},
				{Parameter: "previous", Name: "db", VersionStage: "AWSPREVIOUS"},
				{Parameter: "both", Name: "db", VersionID: first, VersionStage: "OLD"},
				{Parameter: "current", Name: "db", VersionID: second, VersionStage: "AWSCURRENT"},
			}},
			want: map[string]string{"byArn": "pw-two-s3cret", "byID": "pw-one-s3cret", "previous": "pw-one-s3cret", "both": "pw-one-s3cret", "current": "pw-two-s3cret"}},
		{name: "secretKey", spec: kedav1alpha1.AwsSecretManager{Region: "eu-west-1", Credentials: creds,
			Secrets: []kedav1alpha1.AwsSecretManagerSecret{{Parameter: "password", Name: "json", SecretKey: "password"}}},
			want: map[string]string{"password": "json-s3cret"}},
		{name: "secretKey absent", spec: kedav1alpha1.AwsSecretManager{Region: "eu-west-1", Credentials: creds,
			Secrets: []kedav1alpha1.AwsSecretManagerSecret{{Parameter: "password", Name: "json", SecretKey: "pass"}}},
			wantErr: []string{"TriggerAuthentication ta: awsSecretManager: secrets[0] (parameter password)", `no key "pass"`, "check secretKey"}},
		{name: "secretKey not a string", spec: kedav1alpha1.AwsSecretManager{Region: "eu-west-1", Credentials: creds,
			Secrets: []kedav1alpha1.AwsSecretManagerSecret{{Parameter: "port", Name: "json", SecretKey: "port"}}},
			wantErr: []string{`key "port" is not a string`}},
		{name: "secretKey on a plain secret", spec: kedav1alpha1.AwsSecretManager{Region: "eu-west-1", Credentials: creds,
			Secrets: []kedav1alpha1.AwsSecretManagerSecret{{Parameter: "p", Name: "plain", SecretKey: "k"}}},
			wantErr: []string{"not a JSON object", "remove secretKey"}},
		{name: "missing secret", spec: kedav1alpha1.AwsSecretManager{Region: "eu-west-1", Credentials: creds,
			Secrets: []kedav1alpha1.AwsSecretManagerSecret{{Parameter: "password", Name: "gone"}}},
			wantErr: []string{"secrets[0] (parameter password)", `"gone"`, "ResourceNotFoundException", "check the secret's name"}},
		{name: "stage on another version", spec: kedav1alpha1.AwsSecretManager{Region: "eu-west-1", Credentials: creds,
			Secrets: []kedav1alpha1.AwsSecretManagerSecret{{Parameter: "p", Name: "db", VersionID: second, VersionStage: "OLD"}}},
			wantErr: []string{"InvalidParameterException"}},
		{name: "wrong region", spec: kedav1alpha1.AwsSecretManager{Region: "us-east-2", Credentials: creds,
			Secrets: []kedav1alpha1.AwsSecretManagerSecret{{Parameter: "p", Name: "db"}}},
			wantErr: []string{"InvalidSignatureException"}},
		{name: "wrong secret key", spec: kedav1alpha1.AwsSecretManager{Region: "eu-west-1",
			Credentials: &kedav1alpha1.AwsSecretManagerCredentials{AccessKey: secretRef("aws", "id"), AccessSecretKey: secretRef("aws", "wrong"), AccessToken: secretRef("aws", "token")},
			Secrets:     []kedav1alpha1.AwsSecretManagerSecret{{Parameter: "p", Name: "db"}}},
			wantErr: []string{"InvalidSignatureException"}},
		{name: "no region", spec: kedav1alpha1.AwsSecretManager{Credentials: creds,
			Secrets: []kedav1alpha1.AwsSecretManagerSecret{{Parameter: "p", Name: "db"}}},
			wantErr: []string{"set spec.awsSecretManager.region"}},
		{name: "no credentials", spec: kedav1alpha1.AwsSecretManager{Region: "eu-west-1",
			Secrets: []kedav1alpha1.AwsSecretManagerSecret{{Parameter: "p", Name: "db"}}},
			wantErr: []string{"spec.awsSecretManager.credentials: Required", "set credentials.accessKey"}},
		{name: "credential Secret key missing", spec: kedav1alpha1.AwsSecretManager{Region: "eu-west-1",
			Credentials: &kedav1alpha1.AwsSecretManagerCredentials{AccessKey: secretRef("aws", "idd"), AccessSecretKey: secretRef("aws", "key")},
			Secrets:     []kedav1alpha1.AwsSecretManagerSecret{{Parameter: "p", Name: "db"}}},
			wantErr: []string{"awsSecretManager.credentials.accessKey", `Secret app/aws has no key "idd"`}},
		{name: "unsupported pod identity", spec: kedav1alpha1.AwsSecretManager{Region: "eu-west-1", PodIdentity: &kedav1alpha1.AuthPodIdentity{Provider: "gcp"},
			Secrets: []kedav1alpha1.AwsSecretManagerSecret{{Parameter: "p", Name: "db"}}},
			wantErr: []string{`spec.awsSecretManager.podIdentity.provider: Unsupported value: "gcp"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec
			ta := &kedav1alpha1.TriggerAuthentication{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "ta"},
				Spec: kedav1alpha1.TriggerAuthenticationSpec{AwsSecretManager: &spec}}
			r.Authentications = authReader(t, ta)
			got, err := r.AuthParams(context.Background(), "app", &kedav1alpha1.AuthenticationRef{Name: "ta"}, nil)
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error, params %d", len(got))
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				for _, s := range sensitive {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error %q holds a secret", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("params %v, want %v", got, tc.want)
			}
		})
	}
	// Every request was signed with the Secret's key id; the identities seen were two (the
	// right and the wrong secret key) per region, each with one client.
	for _, req := range srv.Requests() {
		if req.AccessKeyID != keyID {
			t.Errorf("request signed by %q", req.AccessKeyID)
		}
	}
	if n := aws.clients.size(); n != 3 {
		t.Errorf("%d clients kept, want 3 (eu-west-1, us-east-2, eu-west-1 with the wrong key)", n)
	}
}

// TestAWSSecretManagerEndpointFromEnv: with the operator's default configuration the standard
// AWS_ENDPOINT_URL_SECRETS_MANAGER points the resolver at another endpoint, as the e2e tests do.
func TestAWSSecretManagerEndpointFromEnv(t *testing.T) {
	srv := smfake.Start(smfake.Options{Region: "us-east-1", AccessKeyID: "AKIDENV", SecretAccessKey: "env-secret"})
	defer srv.Close()
	srv.PutSecret("token", "env-value")
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", srv.URL)
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	id := awsIdentity{region: "us-east-1", accessKeyID: "AKIDENV", secretKey: "env-secret"}
	got, err := (&AWSSecrets{}).Resolve(context.Background(), id, &kedav1alpha1.AwsSecretManager{Secrets: []kedav1alpha1.AwsSecretManagerSecret{{Parameter: "t", Name: "token"}}})
	if err != nil || got["t"] != "env-value" {
		t.Fatalf("got %v, %v", got, err)
	}
}

// TestAWSSecretManagerClusterKind: a ClusterTriggerAuthentication's credential Secrets are read
// from the cluster object namespace, whatever the scaled object's namespace.
func TestAWSSecretManagerClusterKind(t *testing.T) {
	srv := smfake.Start(smfake.Options{AccessKeyID: "AKIDCLUSTER", SecretAccessKey: "cluster-secret"})
	defer srv.Close()
	srv.PutSecret("shared", "shared-value")
	spec := &kedav1alpha1.AwsSecretManager{Region: "us-east-1",
		Credentials: &kedav1alpha1.AwsSecretManagerCredentials{AccessKey: secretRef("aws", "id"), AccessSecretKey: secretRef("aws", "key")},
		Secrets:     []kedav1alpha1.AwsSecretManagerSecret{{Parameter: "p", Name: "shared"}}}
	reader := authReader(t,
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "kedactl-system", Name: "aws"}, Data: map[string][]byte{"id": []byte("AKIDCLUSTER"), "key": []byte("cluster-secret")}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "aws"}, Data: map[string][]byte{"id": []byte("AKIDWRONG"), "key": []byte("wrong")}},
		&kedav1alpha1.ClusterTriggerAuthentication{ObjectMeta: metav1.ObjectMeta{Name: "cta"}, Spec: kedav1alpha1.TriggerAuthenticationSpec{AwsSecretManager: spec}},
	)
	r := &Resolver{Reader: reader, ClusterObjectNamespace: "kedactl-system", AWS: &AWSSecrets{LoadConfig: func(context.Context) (aws.Config, error) {
		return aws.Config{BaseEndpoint: aws.String(srv.URL)}, nil
	}}}
	got, err := r.AuthParams(context.Background(), "app", &kedav1alpha1.AuthenticationRef{Name: "cta", Kind: "ClusterTriggerAuthentication"}, nil)
	if err != nil || got["p"] != "shared-value" {
		t.Fatalf("got %v, %v", got, err)
	}
}
