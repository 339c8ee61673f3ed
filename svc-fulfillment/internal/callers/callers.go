// Package callers decides who may call the internal methods, as pasar_kit.callers does:
// a contract method without a google.api.http option is internal (read from the service
// descriptors, never listed by hand), and only the callers PASAR_INTERNAL_CALLERS names
// may call it, each proving who it is by its x-pasar-caller-token or, with mutual TLS,
// by its client certificate.
package callers

import (
	"context"
	"crypto/subtle"
	"sort"

	commonv1 "github.com/pasar-shop/pasar/contracts/go/pasar/common/v1"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/rpcerr"
)

// TokenMetadata is the metadata key of a caller's secret.
const TokenMetadata = "x-pasar-caller-token"

// InternalMethods are the /package.Service/Method paths of services' methods without an
// HTTP binding.
func InternalMethods(services ...protoreflect.ServiceDescriptor) map[string]bool {
	internal := map[string]bool{}
	for _, service := range services {
		methods := service.Methods()
		for i := range methods.Len() {
			method := methods.Get(i)
			if !proto.HasExtension(method.Options(), annotations.E_Http) {
				internal["/"+string(service.FullName())+"/"+string(method.Name())] = true
			}
		}
	}
	return internal
}

// Gate refuses internal calls from callers it does not accept.
type Gate struct {
	Methods   map[string]bool
	Accepted  map[string]bool
	Tokens    map[string]string
	MutualTLS bool
}

// NewGate is a gate over methods accepting accepted, recognised by tokens (name -> secret)
// or, with mutualTLS, by client certificate.
func NewGate(methods map[string]bool, accepted []string, tokens map[string]string, mutualTLS bool) *Gate {
	g := &Gate{Methods: methods, Accepted: map[string]bool{}, Tokens: tokens, MutualTLS: mutualTLS}
	for _, name := range accepted {
		g.Accepted[name] = true
	}
	return g
}

// Check is nil when the caller may call method; the refusal otherwise.
func (g *Gate) Check(ctx context.Context, method string) error {
	if !g.Methods[method] {
		return nil
	}
	names, err := g.identify(ctx)
	if err != nil {
		return err
	}
	for _, name := range names {
		if g.Accepted[name] {
			return nil
		}
	}
	return rpcerr.New(codes.PermissionDenied, commonv1.ErrorReason_CALLER_NOT_ALLOWED,
		"'"+names[0]+"' may not call this method", "caller", names[0])
}

func (g *Gate) identify(ctx context.Context) ([]string, error) {
	if g.MutualTLS {
		names := certificateNames(ctx)
		if len(names) == 0 {
			return nil, rpcerr.New(codes.Unauthenticated, commonv1.ErrorReason_CALLER_UNAUTHENTICATED,
				"this method needs a client certificate")
		}
		return names, nil
	}
	token := ""
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if values := md.Get(TokenMetadata); len(values) > 0 {
			token = values[0]
		}
	}
	if token == "" {
		return nil, rpcerr.New(codes.Unauthenticated, commonv1.ErrorReason_CALLER_CREDENTIAL_MISSING,
			"this method is internal: the caller's credential is missing")
	}
	var names []string
	for name, secret := range g.Tokens {
		if subtle.ConstantTimeCompare([]byte(token), []byte(secret)) == 1 {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil, rpcerr.New(codes.Unauthenticated, commonv1.ErrorReason_CALLER_CREDENTIAL_INVALID,
			"this method is internal: the caller's credential is not valid")
	}
	sort.Strings(names)
	return names, nil
}

// certificateNames are the names a verified client certificate gives: its DNS
// subjectAltNames, else its common name.
func certificateNames(ctx context.Context) []string {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return nil
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.VerifiedChains) == 0 || len(info.State.VerifiedChains[0]) == 0 {
		return nil
	}
	leaf := info.State.VerifiedChains[0][0]
	if len(leaf.DNSNames) > 0 {
		return leaf.DNSNames
	}
	if leaf.Subject.CommonName != "" {
		return []string{leaf.Subject.CommonName}
	}
	return nil
}
