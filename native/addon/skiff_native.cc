// skiff_native: the few things Node cannot do itself. Keep it tiny.
//   flock(fd, exclusive, wait) -> boolean   false only when wait=false and the lock is busy
//   unlockFd(fd)                            release a lock taken with flock()
// Errors are thrown as Error objects whose message is "<syscall>: <strerror>" and whose
// `code` is the errno name (e.g. "EBADF"), like Node's own fs errors.
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <sys/file.h>

namespace {

const char *ErrnoName(int err) {
  switch (err) {
    case EBADF: return "EBADF";
    case EINTR: return "EINTR";
    case EINVAL: return "EINVAL";
    case ENOLCK: return "ENOLCK";
    case EWOULDBLOCK: return "EWOULDBLOCK";
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

// Blocking waits happen on the main thread on purpose: callers lock small state files for
// milliseconds, and an async variant would cost more than it saves.
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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("flock", Napi::Function::New(env, Flock, "flock"));
  exports.Set("unlockFd", Napi::Function::New(env, UnlockFd, "unlockFd"));
  return exports;
}

}  // namespace

NODE_API_MODULE(skiff_native, Init)
