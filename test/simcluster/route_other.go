//go:build !linux

package simcluster

import (
	"errors"
	"net"
)

func addLocalRoute(*net.IPNet) (func() error, error) {
	return nil, errors.New("routable pod IPs need Linux (a local route on lo)")
}
