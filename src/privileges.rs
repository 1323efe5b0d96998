//! `-Z USER`: give up root once the capture device and the output files
//! are open, as tcpdump does. The process takes the user's uid, primary
//! gid and supplementary groups; a later attempt to regain root fails.

use std::ffi::CString;

use crate::error::Error;

/// Switches the whole process to `user`.
pub fn drop_to(user: &str) -> Result<(), Error> {
    let name =
        CString::new(user).map_err(|_| Error::Usage(format!("-Z: bad user name '{user}'")))?;
    // SAFETY: getpwnam returns a pointer into static storage or NULL; the
    // fields are copied out before any other call that could reuse it.
    let (uid, gid) = unsafe {
        let pw = libc::getpwnam(name.as_ptr());
        if pw.is_null() {
            return Err(Error::Usage(format!(
                "-Z: no such user '{user}' (give an existing account, e.g. nobody)"
            )));
        }
        ((*pw).pw_uid, (*pw).pw_gid)
    };
    let fail = |what: &str| {
        Error::Permission(format!(
            "-Z {user}: {what} failed ({}); dropping privileges needs root",
            std::io::Error::last_os_error()
        ))
    };
    // SAFETY: plain system calls on this process; the order matters:
    // groups and gid while still root, the uid last.
    unsafe {
        if libc::initgroups(name.as_ptr(), gid) != 0 {
            return Err(fail("initgroups"));
        }
        if libc::setgid(gid) != 0 {
            return Err(fail("setgid"));
        }
        if libc::setuid(uid) != 0 {
            return Err(fail("setuid"));
        }
        // Make sure root cannot be regained.
        if uid != 0 && libc::setuid(0) == 0 {
            return Err(Error::Permission(format!(
                "-Z {user}: root could be regained; refusing to continue"
            )));
        }
    }
    log::info!("dropped privileges to {user} (uid {uid}, gid {gid})");
    Ok(())
}
