// skiff_native: the few things Node cannot do itself. Keep it tiny.
//   flock(fd, exclusive, wait) -> boolean   false only when wait=false and the lock is busy
//   unlockFd(fd)                            release a lock taken with flock()
//   spawnDetached(file, argv, stdio[3], sealed)
//                                           -> {pid, reportFd}: posix_spawn in a new session,
//                                           stdio from the given fds (-1: /dev/null), and a
//                                           pipe on the child's fd 3 for its reports; sealed:
//                                           run a sealed memfd copy of file, not file itself
//   spawnPiped(file, argv)                  -> {pid, stdin, stdout, stderr}: posix_spawn in the
//                                           caller's session with pipes on the child's 0, 1, 2
//   waitPid(pid)                            -> exit code (128+N when killed by signal N)
//   tryWaitPid(pid)                         -> the same, or -1 while the child is still running
//   pidfdOpen(pid)                          -> a pidfd (O_CLOEXEC) for pid: it keeps naming that
//                                           process even if the pid is reused after it exits
//   pidfdSendSignal(pidfd, signo)           signal the process a pidfd names (ESRCH once it exited)
//   forwardTerminalSignals(pid)             until stopForwardingSignals(): the signals a terminal
//                                           or a user sends us go to pid, from a C handler, while
//                                           the event loop is blocked in readLine/waitPid
//   stopForwardingSignals()                 put back the handlers forwardTerminalSignals replaced
//   readLine(fd)                            -> the first line on fd (blocking; no newline), or
//                                           what came before EOF
// Errors are thrown as Error objects whose message is "<syscall>: <strerror>" and whose
// `code` is the errno name (e.g. "EBADF"), like Node's own fs errors.
#include <napi.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <string>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "../helper/sealed_copy.h"

extern char **environ;

namespace {

const char *ErrnoName(int err) {
  switch (err) {
    case EBADF: return "EBADF";
    case EINTR: return "EINTR";
    case EINVAL: return "EINVAL";
    case ENOLCK: return "ENOLCK";
    case EWOULDBLOCK: return "EWOULDBLOCK";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case ECHILD: return "ECHILD";
    case ENOMEM: return "ENOMEM";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOEXEC: return "ENOEXEC";
    case ESRCH: return "ESRCH";
    case EPERM: return "EPERM";
    case ENOSYS: return "ENOSYS";
    default: return "EIO";
  }
}

void ThrowErrno(Napi::Env env, const char *syscall, int err) {
  Napi::Error e = Napi::Error::New(env, std::string(syscall) + ": " + std::strerror(err));
  e.Set("code", Napi::String::New(env, ErrnoName(err)));
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.ThrowAsJavaScriptException();
}

bool GetFd(const Napi::CallbackInfo &info, int *fd) {
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(info.Env(), "fd must be a number").ThrowAsJavaScriptException();
    return false;
  }
  *fd = info[0].As<Napi::Number>().Int32Value();
  return true;
}

// skiff calls it only with wait=false: a blocking wait here would block Node's event loop (and
// on a libuv worker thread it would hold one of the pool's four threads); src/state/lock.ts
// waits for a busy lock by trying again with backoff.
Napi::Value Flock(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd;
  if (!GetFd(info, &fd)) return env.Undefined();
  bool exclusive = info.Length() > 1 && info[1].ToBoolean().Value();
  bool wait = info.Length() > 2 && info[2].ToBoolean().Value();
  int op = (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB);
  int rc;
  do {
    rc = ::flock(fd, op);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) return Napi::Boolean::New(env, true);
  int err = errno;
  if (!wait && err == EWOULDBLOCK) return Napi::Boolean::New(env, false);
  ThrowErrno(env, "flock", err);
  return env.Undefined();
}

Napi::Value UnlockFd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd;
  if (!GetFd(info, &fd)) return env.Undefined();
  int rc;
  do {
    rc = ::flock(fd, LOCK_UN);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) ThrowErrno(env, "flock", errno);
  return env.Undefined();
}

// argv for posix_spawn: the strings stay alive as long as this object.
class SpawnArgv {
 public:
  explicit SpawnArgv(Napi::Array args) {
    for (uint32_t i = 0; i < args.Length(); i++) store_.push_back(args.Get(i).ToString().Utf8Value());
    for (auto &a : store_) ptrs_.push_back(const_cast<char *>(a.c_str()));
    ptrs_.push_back(nullptr);
  }
  char *const *data() { return ptrs_.data(); }

 private:
  std::vector<std::string> store_;
  std::vector<char *> ptrs_;
};

// Node ignores SIGPIPE and blocks some signals; a child must start from the defaults (a helper
// that inherited an ignored SIGPIPE would see EPIPE where it should die quietly).
void ResetSignals(posix_spawnattr_t *attr, short extraFlags) {
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(attr, &all);
  posix_spawnattr_setsigmask(attr, &none);
  posix_spawnattr_setflags(attr, extraFlags | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
}

// Why not child_process.spawn: libuv forks the whole Node process (page tables of a ~50 MB
// address space) before exec; glibc's posix_spawn uses CLONE_VM|CLONE_VFORK and costs a
// fraction of that on the container start-up path.
Napi::Value SpawnDetached(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsArray() || !info[2].IsArray()) {
    Napi::TypeError::New(env, "spawnDetached(file, argv[], stdio[3])").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string file = info[0].As<Napi::String>().Utf8Value();
  SpawnArgv argv(info[1].As<Napi::Array>());
  Napi::Array stdio = info[2].As<Napi::Array>();

  // The monitor must not run from its file on the host, which a container could otherwise
  // reach through /proc/self/exe (native/helper/sealed_exe.c). Spawning it from the sealed copy
  // here spares it the re-execution it would do itself: one execve and dynamic link less on
  // every container start. The child opens /proc/self/fd/N before exec closes N (CLOEXEC).
  int sealed = -1;
  if (info.Length() > 3 && info[3].ToBoolean().Value()) {
    int src = open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (src < 0) {
      ThrowErrno(env, "open", errno);
      return env.Undefined();
    }
    const char *what = "";
    sealed = skiff_sealed_copy(src, &what);
    int err = errno;
    close(src);
    if (sealed >= 0 && sealed <= 3) { // keep it clear of the child's dup2 targets 0-3
      int high = fcntl(sealed, F_DUPFD_CLOEXEC, 10);
      err = errno;
      close(sealed);
      sealed = high;
      what = "F_DUPFD_CLOEXEC";
    }
    if (sealed < 0) {
      ThrowErrno(env, what, err);
      return env.Undefined();
    }
    file = "/proc/self/fd/" + std::to_string(sealed);
  }

  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    int err = errno;
    if (sealed >= 0) close(sealed);
    ThrowErrno(env, "pipe2", err);
    return env.Undefined();
  }
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  for (int target = 0; target < 3; target++) {
    int fd = stdio.Get(target).As<Napi::Number>().Int32Value();
    if (fd < 0) posix_spawn_file_actions_addopen(&fa, target, "/dev/null", O_RDWR, 0);
    else posix_spawn_file_actions_adddup2(&fa, fd, target);
  }
  posix_spawn_file_actions_adddup2(&fa, report[1], 3);
  ResetSignals(&attr, POSIX_SPAWN_SETSID);
  pid_t pid;
  int rc = posix_spawn(&pid, file.c_str(), &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close(report[1]);
  if (sealed >= 0) close(sealed);
  if (rc != 0) {
    close(report[0]);
    ThrowErrno(env, "posix_spawn", rc);
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, pid));
  out.Set("reportFd", Napi::Number::New(env, report[0]));
  return out;
}

// A child of skiff-helper: the same argv, stdin/stdout/stderr on three fresh pipes, and the
// caller's session and process group (unlike spawnDetached), so that the helper dies with the
// terminal as a child_process.spawn'ed one did. All six pipe ends are O_CLOEXEC: the child gets
// its three through dup2 (which clears the flag on 0, 1, 2), and the parent's ends never leak
// into later children. Returns the parent's ends: stdin's write end, stdout's and stderr's read ends.
Napi::Value SpawnPiped(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsArray()) {
    Napi::TypeError::New(env, "spawnPiped(file, argv[])").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string file = info[0].As<Napi::String>().Utf8Value();
  SpawnArgv argv(info[1].As<Napi::Array>());

  // pipes[0] is the child's stdin: the child reads pipes[0][0], we write pipes[0][1].
  int pipes[3][2];
  int made = 0;
  for (; made < 3; made++) {
    if (pipe2(pipes[made], O_CLOEXEC) != 0) break;
  }
  if (made < 3) {
    int err = errno;
    for (int i = 0; i < made; i++) {
      close(pipes[i][0]);
      close(pipes[i][1]);
    }
    ThrowErrno(env, "pipe2", err);
    return env.Undefined();
  }
  const int childEnd[3] = {pipes[0][0], pipes[1][1], pipes[2][1]};
  const int parentEnd[3] = {pipes[0][1], pipes[1][0], pipes[2][0]};

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  for (int target = 0; target < 3; target++) posix_spawn_file_actions_adddup2(&fa, childEnd[target], target);
  ResetSignals(&attr, 0);
  pid_t pid;
  int rc = posix_spawn(&pid, file.c_str(), &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  for (int fd : childEnd) close(fd);
  if (rc != 0) {
    for (int fd : parentEnd) close(fd);
    ThrowErrno(env, "posix_spawn", rc);
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, pid));
  out.Set("stdin", Napi::Number::New(env, parentEnd[0]));
  out.Set("stdout", Napi::Number::New(env, parentEnd[1]));
  out.Set("stderr", Napi::Number::New(env, parentEnd[2]));
  return out;
}

Napi::Value Reap(const Napi::CallbackInfo &info, int options) {
  Napi::Env env = info.Env();
  int pid;
  if (!GetFd(info, &pid)) return env.Undefined();
  int status = 0, rc;
  do {
    rc = ::waitpid(pid, &status, options);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    ThrowErrno(env, "waitpid", errno);
    return env.Undefined();
  }
  if (rc == 0) return Napi::Number::New(env, -1);  // WNOHANG and still running
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return Napi::Number::New(env, code);
}

// Called once the child's report pipe reached EOF, i.e. the child has exited: the wait is short.
Napi::Value WaitPid(const Napi::CallbackInfo &info) { return Reap(info, 0); }

// For children whose pipes may reach EOF a moment before they exit: never blocks the event loop.
Napi::Value TryWaitPid(const Napi::CallbackInfo &info) { return Reap(info, WNOHANG); }

// A pid alone can name another process once the one it meant exited and was reaped. A pidfd
// names one process for good: the caller opens it, checks that the process is still the one
// it recorded (its start time), and only then signals it: no reuse can slip in between.
Napi::Value PidfdOpen(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int pid;
  if (!GetFd(info, &pid)) return env.Undefined();
  long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) {
    ThrowErrno(env, "pidfd_open", errno);
    return env.Undefined();
  }
  // pidfd_open sets O_CLOEXEC itself: the fd never leaks into a spawned helper.
  return Napi::Number::New(env, static_cast<double>(fd));
}

Napi::Value PidfdSendSignal(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd;
  if (!GetFd(info, &fd)) return env.Undefined();
  if (info.Length() < 2 || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "pidfdSendSignal(pidfd, signo)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int signo = info[1].As<Napi::Number>().Int32Value();
  if (::syscall(SYS_pidfd_send_signal, fd, signo, nullptr, 0) != 0) ThrowErrno(env, "pidfd_send_signal", errno);
  return env.Undefined();
}

// Forwarding a child's signals without the event loop. `skiff exec` blocks in readLine and
// waitPid while the helper runs (it gets our stdio, Node has nothing to do meanwhile), which
// spares exec the stream, net and tty modules and the timers of an asynchronous wait. Node's own
// handlers (libuv's, through the event loop) could not run then, so these replace them until
// stopForwardingSignals(): a handler that only calls pidfd_send_signal (async-signal-safe), on
// whichever thread the kernel picks. A pidfd, not the pid: a signal that comes after the child
// was reaped can never reach a process that got its pid again.
const int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
constexpr int kNumForwarded = sizeof kForwarded / sizeof kForwarded[0];
volatile sig_atomic_t g_forward_pidfd = -1;
struct sigaction g_replaced[kNumForwarded];
bool g_forwarding = false;

void ForwardSignal(int signo) {
  int saved = errno;
  if (g_forward_pidfd >= 0) ::syscall(SYS_pidfd_send_signal, static_cast<int>(g_forward_pidfd), signo, nullptr, 0);
  errno = saved;
}

void StopForwarding() {
  if (!g_forwarding) return;
  for (int i = 0; i < kNumForwarded; i++) sigaction(kForwarded[i], &g_replaced[i], nullptr);
  int fd = g_forward_pidfd;
  g_forward_pidfd = -1;
  close(fd);
  g_forwarding = false;
}

Napi::Value ForwardTerminalSignals(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int pid;
  if (!GetFd(info, &pid)) return env.Undefined();
  StopForwarding();
  long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) {
    ThrowErrno(env, "pidfd_open", errno);
    return env.Undefined();
  }
  g_forward_pidfd = static_cast<int>(fd);
  struct sigaction sa {};
  sa.sa_handler = ForwardSignal;
  sa.sa_flags = SA_RESTART;  // the blocked read or wait goes on after a forwarded signal
  sigemptyset(&sa.sa_mask);
  for (int i = 0; i < kNumForwarded; i++) sigaction(kForwarded[i], &sa, &g_replaced[i]);
  g_forwarding = true;
  return env.Undefined();
}

Napi::Value StopForwardingSignals(const Napi::CallbackInfo &info) {
  StopForwarding();
  return info.Env().Undefined();
}

// The report pipe's first line (native/PROTOCOL.md: "ok" or "err CODE message"), blocking. A
// line is at most a few hundred bytes; anything after it is not ours to read.
Napi::Value ReadLine(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd;
  if (!GetFd(info, &fd)) return env.Undefined();
  std::string line;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ThrowErrno(env, "read", errno);
      return env.Undefined();
    }
    if (n == 0) break;
    line.append(buf, static_cast<size_t>(n));
    size_t nl = line.find('\n');
    if (nl != std::string::npos) {
      line.resize(nl);
      break;
    }
    if (line.size() > 65536) break;
  }
  return Napi::String::New(env, line);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("forwardTerminalSignals", Napi::Function::New(env, ForwardTerminalSignals, "forwardTerminalSignals"));
  exports.Set("stopForwardingSignals", Napi::Function::New(env, StopForwardingSignals, "stopForwardingSignals"));
  exports.Set("readLine", Napi::Function::New(env, ReadLine, "readLine"));
  exports.Set("spawnDetached", Napi::Function::New(env, SpawnDetached, "spawnDetached"));
  exports.Set("spawnPiped", Napi::Function::New(env, SpawnPiped, "spawnPiped"));
  exports.Set("waitPid", Napi::Function::New(env, WaitPid, "waitPid"));
  exports.Set("tryWaitPid", Napi::Function::New(env, TryWaitPid, "tryWaitPid"));
  exports.Set("flock", Napi::Function::New(env, Flock, "flock"));
  exports.Set("unlockFd", Napi::Function::New(env, UnlockFd, "unlockFd"));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen, "pidfdOpen"));
  exports.Set("pidfdSendSignal", Napi::Function::New(env, PidfdSendSignal, "pidfdSendSignal"));
  return exports;
}

}  // namespace

NODE_API_MODULE(skiff_native, Init)
