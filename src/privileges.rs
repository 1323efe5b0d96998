//! Holding no more privilege than needed. `-Z USER`: give up root once the
//! capture device and the output files are open, as tcpdump does; the
//! process takes the user's uid, primary gid and supplementary groups, and
//! a later attempt to regain root fails. Without `-Z`, a non-root netpeek
//! started with file capabilities (`setcap cap_net_raw,cap_net_admin=eip`)
//! gives them all up at the same point.

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

/// `_LINUX_CAPABILITY_VERSION_3`: two 32-bit words per set.
const CAP_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Gives up every capability (permitted, effective, inheritable) a
/// non-root process holds, once the capture device and the output files
/// are open: a netpeek given `cap_net_raw,cap_net_admin` as file
/// capabilities keeps them only as long as it needs them. Returns true
/// when there was something to give up. Root keeps its privileges unless
/// `-Z` says otherwise, as with tcpdump.
pub fn drop_capabilities() -> Result<bool, Error> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return Ok(false);
    }
    let mut header = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: capget(2) with a version-3 header and room for its two
    // data words, all owned here.
    let got = unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) };
    if got != 0 {
        return Err(Error::Permission(format!(
            "cannot read this process's capabilities ({})",
            std::io::Error::last_os_error()
        )));
    }
    if data.iter().all(|d| d.permitted == 0 && d.effective == 0) {
        return Ok(false);
    }
    let mut header = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let none = [CapData::default(); 2];
    // SAFETY: capset(2) on this process with a version-3 header and two
    // data words; lowering capabilities needs no privilege.
    let set = unsafe { libc::syscall(libc::SYS_capset, &mut header, none.as_ptr()) };
    if set != 0 {
        return Err(Error::Permission(format!(
            "cannot give up capabilities after opening the capture ({}); refusing to continue",
            std::io::Error::last_os_error()
        )));
    }
    log::info!("gave up the capabilities netpeek was started with");
    Ok(true)
}
