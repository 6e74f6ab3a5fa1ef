//go:build tools

// Package tools imports the Prometheus Operator's API types, which only controller-gen reads
// (`paths=` in test/harness/kubeconform.ts), so that `go mod tidy` keeps their pinned
// requirement. The build tag keeps it out of every build.
package tools

import _ "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
