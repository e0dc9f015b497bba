// Package deploy holds riftbridge's deployment files; its tests check the
// Kubernetes manifests against the Kubernetes API types and the configs they
// embed against riftbridge's config loader.
package deploy
