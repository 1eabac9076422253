package simcluster

import "syscall"

// sysProcAttr puts a child in its own process group (so Stop can signal everything it spawned) and asks the
// kernel to kill it if the thread that started it dies, so a crashed or killed test leaks no processes.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
