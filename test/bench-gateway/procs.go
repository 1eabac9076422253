package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// child is a process the benchmark started: an engine-sim backend or the gateway.
type child struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
	err  error         // its exit, once done is closed
}

// pid is the child's process ID.
func (c *child) pid() int { return c.cmd.Process.Pid }

// exited returns an error with the tail of the child's log when it has exited, nil while it runs.
func (c *child) exited() error {
	select {
	case <-c.done:
		return fmt.Errorf("%s exited (%v); the end of its log %s:\n%s", c.name, c.err, c.log, tail(c.log, 2000))
	default:
		return nil
	}
}

// children are all the processes started, so that every one is stopped however the benchmark ends.
type children struct {
	dir  string // where their logs go
	mu   sync.Mutex
	list []*child
}

// start runs argv with its stderr (and stdout, unless stdout is given) in a log file of its own. The process gets
// its own process group, and the kernel kills it should the benchmark die without stopping it.
func (cs *children) start(name string, argv, env []string, stdout *os.File) (*child, error) {
	log := filepath.Join(cs.dir, name+".log")
	f, err := os.Create(log)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr, cmd.Stdout = f, f
	if stdout != nil {
		cmd.Stdout = stdout
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, log: log, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	cs.mu.Lock()
	cs.list = append(cs.list, c)
	cs.mu.Unlock()
	return c, nil
}

// stopAll kills every child's process group and waits for each to exit.
func (cs *children) stopAll() {
	cs.mu.Lock()
	list := cs.list
	cs.list = nil
	cs.mu.Unlock()
	for _, c := range list {
		_ = syscall.Kill(-c.pid(), syscall.SIGKILL)
	}
	for _, c := range list {
		select {
		case <-c.done:
		case <-time.After(5 * time.Second):
			fmt.Fprintf(os.Stderr, "bench-gateway: %s (pid %d) did not exit after SIGKILL\n", c.name, c.pid())
		}
	}
}

// pids are the process IDs of cs.
func pids(cs ...*child) []int {
	out := make([]int, len(cs))
	for i, c := range cs {
		out[i] = c.pid()
	}
	return out
}

// freePort is a loopback port nothing listens on now (engine-sim needs its port on the command line).
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// poll calls check until it succeeds, c exits, ctx ends or the deadline passes.
func poll(ctx context.Context, c *child, within time.Duration, what string, check func() error) error {
	deadline := time.Now().Add(within)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return nil
		}
		if c != nil {
			if exit := c.exited(); exit != nil {
				return exit
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %s: %w", what, within, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// getOK is a GET that must answer 200; it returns the body.
func getOK(ctx context.Context, client *http.Client, url, key string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, bytes.TrimSpace(body))
	}
	return body, nil
}

// tail is the last n bytes of a file.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		_, _ = f.Seek(st.Size()-n, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

// clockTicks is USER_HZ, the unit of the CPU times in /proc/<pid>/stat: 100 on every Linux architecture Go runs on.
const clockTicks = 100

// cpuSeconds is the user plus system CPU time of a process, all its threads, living and exited.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return float64(utime+stime) / clockTicks, nil
}

// sumCPU is the CPU time of several processes together.
func sumCPU(pids []int) (float64, error) {
	var sum float64
	for _, p := range pids {
		s, err := cpuSeconds(p)
		if err != nil {
			return 0, err
		}
		sum += s
	}
	return sum, nil
}

// statusKiB reads a "Vm…: N kB" line of /proc/<pid>/status (VmRSS, VmHWM).
func statusKiB(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, field)
}

// allowedCPUs is the CPUs this process may run on.
func allowedCPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, err
	}
	var cpus []int
	for c := 0; c < len(set)*64; c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}

// pinSelf restricts every thread of this process to cpus. sched_setaffinity applies to one thread, so each of
// /proc/self/task is set; threads started later inherit the mask of the thread that starts them, which is already
// set. A few passes catch a thread started during the first.
func pinSelf(cpus []int) error {
	var set unix.CPUSet
	set.Zero()
	for _, c := range cpus {
		set.Set(c)
	}
	for range 3 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("pin thread %d to CPUs %v: %w", tid, cpus, err)
			}
		}
	}
	return nil
}

// threadCPUs is the distinct Cpus_allowed_list values of a process's threads: one value when all are pinned alike.
func threadCPUs(pid int) ([]string, int, error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil, 0, err
	}
	var lists []string
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/status", pid, t.Name()))
		if err != nil {
			continue // the thread exited
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
				if v = strings.TrimSpace(v); !slices.Contains(lists, v) {
					lists = append(lists, v)
				}
			}
		}
	}
	return lists, len(tasks), nil
}

// raiseNoFile raises the soft limit of open files to the hard limit (children inherit it).
func raiseNoFile() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	return lim.Cur, nil
}

// cpuModel is the processor's name from /proc/cpuinfo.
func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// cpuTimes are one CPU's times from /proc/stat, in seconds: busy is user+nice+system (interrupts left out, as
// they are not charged to processes either).
type cpuTimes struct{ busy, steal float64 }

// procStat reads the per-CPU lines of /proc/stat, by CPU number.
func procStat() (map[int]cpuTimes, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil, err
	}
	out := map[int]cpuTimes{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || !strings.HasPrefix(f[0], "cpu") || f[0] == "cpu" {
			continue
		}
		c, err := strconv.Atoi(f[0][3:])
		if err != nil {
			continue
		}
		v := make([]float64, 8)
		for i := range v {
			n, _ := strconv.ParseInt(f[i+1], 10, 64)
			v[i] = float64(n) / clockTicks
		}
		out[c] = cpuTimes{busy: v[0] + v[1] + v[2], steal: v[7]}
	}
	return out, nil
}
