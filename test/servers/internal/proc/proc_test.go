package proc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStartWaitStop: the child logs to dir/name.log, WaitUntil returns once ready holds, Stop
// ends it and the whole group.
func TestStartWaitStop(t *testing.T) {
	dir := t.TempDir()
	p, err := Start("sh", []string{"-c", "echo started; sleep 60 & wait"}, dir, "child", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop(syscall.SIGKILL) })
	err = p.WaitUntil(context.Background(), 5*time.Second, "its greeting", func(context.Context) error {
		if !strings.Contains(p.Tail(), "started") {
			return errors.New("not yet")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Running() {
		t.Fatal("not running after its greeting")
	}
	start := time.Now()
	p.Stop(syscall.SIGTERM)
	if p.Running() || time.Since(start) > 4*time.Second {
		t.Errorf("running=%v after Stop, which took %s", p.Running(), time.Since(start))
	}
	// The shell's background sleep got the signal too; an unreaped zombie counts as gone.
	deadline := time.Now().Add(3 * time.Second)
	for groupAlive(p.cmd.Process.Pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process group %d still has a live member after Stop", p.cmd.Process.Pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// alive reports whether process pid exists and is not a zombie.
func alive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] != "Z"
}

// groupAlive reports whether a process of group pgid is alive (not a zombie).
func groupAlive(pgid int) bool {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...
		s := string(data)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 2 && fields[2] == strconv.Itoa(pgid) && fields[0] != "Z" {
			return true
		}
	}
	return false
}

// TestWaitUntilReportsExitAndTimeout: a child that dies, or never becomes ready, ends the wait
// with its log in the error.
func TestWaitUntilReportsExitAndTimeout(t *testing.T) {
	never := func(context.Context) error { return errors.New("not ready") }
	p, err := Start("sh", []string{"-c", "echo boom-in-log; exit 3"}, t.TempDir(), "dies", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = p.WaitUntil(context.Background(), 10*time.Second, "readiness", never)
	if err == nil || !strings.Contains(err.Error(), "exited before readiness") || !strings.Contains(err.Error(), "boom-in-log") {
		t.Errorf("error = %v, want an exit with the log", err)
	}

	p, err = Start("sleep", []string{"60"}, t.TempDir(), "slow", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(syscall.SIGKILL)
	err = p.WaitUntil(context.Background(), 300*time.Millisecond, "readiness", never)
	if err == nil || !strings.Contains(err.Error(), "no readiness within 300ms") || !strings.Contains(err.Error(), "not ready") {
		t.Errorf("error = %v, want a timeout naming the last failure", err)
	}
}

// TestChildDiesWithTestProcess: a helper process starts a child through Start and is killed
// with SIGKILL (no cleanup runs); the child must die too.
func TestChildDiesWithTestProcess(t *testing.T) {
	if os.Getenv("PROC_TEST_HELPER") == "1" {
		p, err := Start("sleep", []string{"120"}, os.TempDir(), "proc-test-orphan-"+strconv.Itoa(os.Getpid()), nil)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("pid", p.cmd.Process.Pid)
		time.Sleep(time.Minute)
		return
	}
	helper := exec.Command(os.Args[0], "-test.run=^TestChildDiesWithTestProcess$")
	helper.Env = append(os.Environ(), "PROC_TEST_HELPER=1")
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = helper.Process.Kill(); _ = helper.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("helper said nothing: %v", err)
	}
	var pid int
	if _, err := fmt.Sscanf(line, "pid %d", &pid); err != nil {
		t.Fatalf("helper said %q", line)
	}
	defer syscall.Kill(pid, syscall.SIGKILL) //nolint:errcheck // only if the test failed
	_ = helper.Process.Kill()
	_ = helper.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("child %d outlived the process that started it", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = os.Remove(filepath.Join(os.TempDir(), "proc-test-orphan-"+strconv.Itoa(helper.Process.Pid)+".log"))
}

// TestUnprivileged: as root a server runs as the named account (or nobody); otherwise as the
// current user.
func TestUnprivileged(t *testing.T) {
	cred, err := Unprivileged("no-such-account-kedactl")
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		if cred != nil {
			t.Errorf("not root, got credentials %+v", cred)
		}
		return
	}
	if cred == nil || cred.Uid == 0 {
		t.Errorf("as root, credentials = %+v, want nobody's", cred)
	}
}
