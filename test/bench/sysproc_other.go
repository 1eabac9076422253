//go:build unix && !linux

package main

import "syscall"

// sysProcAttr puts the operator in its own process group. (Memory figures need Linux's /proc.)
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
