package resolve

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// oauth2Params hands the HTTP scalers (prometheus, metrics-api, ...) the client credentials of
// spec.oauth2 under the parameter names KEDA gives them: oauthTokenURI, clientID, clientSecret,
// scopes (comma-separated) and endpointParams (URL-encoded). A trigger with authModes "oauth"
// then fetches its token with the client credentials grant and reuses it until shortly before it
// expires (scalers/httpclient.go), so a resync that resolves the same credentials again neither
// rebuilds the scaler nor asks the token server for a new token.
func (r *Resolver) oauth2Params(ctx context.Context, namespace string, o *kedav1alpha1.OAuth2, params map[string]string) error {
	ref := o.ClientSecret.ValueFrom.SecretKeyRef
	secret, _, err := r.secretKey(ctx, namespace, ref.Name, ref.Key, false)
	if err != nil {
		return fmt.Errorf("clientSecret: %w", err)
	}
	params["oauthTokenURI"] = o.TokenURL
	params["clientID"] = o.ClientID
	params["clientSecret"] = secret
	if len(o.Scopes) > 0 {
		params["scopes"] = strings.Join(o.Scopes, ",")
	}
	if len(o.TokenURLParams) > 0 {
		v := url.Values{}
		for k, val := range o.TokenURLParams {
			v.Set(k, val)
		}
		params["endpointParams"] = v.Encode() // Encode sorts the keys: the same map gives the same text
	}
	return nil
}
