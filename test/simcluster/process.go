package simcluster

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The parent-death signal (Linux) fires when the OS thread that started a child exits, not the process. All
// children are therefore started from one goroutine locked to a thread that lives as long as the process.
var (
	spawnOnce sync.Once
	spawnReqs chan spawnReq
)

type spawnReq struct {
	cmd *exec.Cmd
	err chan error
}

// spawn starts cmd from the long-lived spawner thread.
func spawn(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnReqs = make(chan spawnReq)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread must outlive every child
			for req := range spawnReqs {
				req.err <- req.cmd.Start()
			}
		}()
	})
	errc := make(chan error, 1)
	spawnReqs <- spawnReq{cmd: cmd, err: errc}
	return <-errc
}

// process is one running component: a child process in its own process group, its output in a log file.
type process struct {
	name      string
	cmd       *exec.Cmd
	logPath   string
	logOffset int64         // where this run's output starts in the log
	done      chan struct{} // closed when the process has exited
	waitErr   error         // valid once done is closed
}

// startProcess starts bin with args, stdout and stderr appended to logPath.
func startProcess(name, bin string, args []string, logPath string) (*process, error) {
	return startProcessEnv(name, bin, args, nil, logPath)
}

// startProcessEnv is startProcess with the environment env (nil: this process's).
func startProcessEnv(name, bin string, args, env []string, logPath string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log of %s: %w", name, err)
	}
	defer logFile.Close() // the child keeps its own descriptor
	fmt.Fprintf(logFile, "+ %s %s\n", bin, strings.Join(args, " "))
	offset, _ := logFile.Seek(0, io.SeekEnd)

	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = sysProcAttr()
	if err := spawn(cmd); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, logOffset: offset, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// exitError describes an unexpected exit, with the end of the log.
func (p *process) exitError() error {
	return fmt.Errorf("%s exited: %v; last lines of %s:\n%s", p.name, p.waitErr, p.logPath, p.logTail(30))
}

// stop sends SIGTERM to the process group, and SIGKILL when it has not exited after grace. It waits for the
// process to end and is safe to call more than once.
func (p *process) stop(grace time.Duration) {
	if p.exited() {
		killGroup(p.cmd.Process.Pid, syscall.SIGKILL) // whatever it may have left behind
		return
	}
	killGroup(p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
	}
	killGroup(p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// killGroup signals the process group led by pid; errors (the group is gone) are of no interest.
func killGroup(pid int, sig syscall.Signal) {
	if err := syscall.Kill(-pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		_ = syscall.Kill(pid, sig)
	}
}

// logTail returns the last n lines of the process's log.
func (p *process) logTail(n int) string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", p.logPath, err)
	}
	return lastLines(string(data), n)
}

// output is what this run of the process wrote to its log.
func (p *process) output() string {
	data, err := os.ReadFile(p.logPath)
	if err != nil || int64(len(data)) < p.logOffset {
		return ""
	}
	return strings.TrimSpace(string(data[p.logOffset:]))
}

// logContains reports whether the process's log holds s.
func (p *process) logContains(s string) bool {
	data, err := os.ReadFile(p.logPath)
	return err == nil && strings.Contains(string(data), s)
}
