//go:build unix && !linux

package simcluster

import "syscall"

// sysProcAttr puts a child in its own process group, so Stop can signal everything it spawned.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
