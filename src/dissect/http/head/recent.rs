//! Text a connection's heads repeat (URI, Host, Content-Type), shared
//! between their records instead of allocated for each.

use crate::event::Shared;

/// The URI, Host and Content-Type a connection last sent, kept so that a
/// head repeating one (a client asking for the same page again and
/// again, a server's every response of one type) shares its text instead
/// of allocating it anew. Only short values are kept, so a connection
/// holds at most three of [`RECENT_MAX`] bytes.
#[derive(Clone, Debug, Default)]
pub struct Recent {
    pub(super) uri: Option<Shared>,
    pub(super) host: Option<Shared>,
    pub(super) content_type: Option<Shared>,
}

/// The longest value [`Recent`] keeps.
pub const RECENT_MAX: usize = 256;

impl Recent {
    /// `s` as [`Shared`]: the kept text when it is the same, else a new
    /// one, kept in its place when short (a long one leaves the kept text
    /// as it was).
    pub(super) fn share(kept: &mut Option<Shared>, s: &str) -> Shared {
        if let Some(k) = kept {
            if **k == *s {
                return k.clone();
            }
        }
        let new = Shared::from(s);
        if s.len() <= RECENT_MAX {
            *kept = Some(new.clone());
        }
        new
    }
}
