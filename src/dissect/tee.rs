//! Stream consumers side by side: [`Tee`] hands every callback to two
//! consumers in turn, so a second reader of the reassembled streams (the
//! `--follow` tap) can run beside the HTTP dissector without either knowing
//! of the other. `Option<C>` is a consumer that may be switched off.

use crate::track::{StreamConsumer, StreamCtx};

use crate::event::Direction;

/// Both consumers get every callback, the first one first.
pub struct Tee<'a, A, B>(pub &'a mut A, pub &'a mut B);

impl<A: StreamConsumer, B: StreamConsumer> StreamConsumer for Tee<'_, A, B> {
    fn data(&mut self, ctx: &StreamCtx, dir: Direction, bytes: &[u8]) {
        self.0.data(ctx, dir, bytes);
        self.1.data(ctx, dir, bytes);
    }

    fn gap(&mut self, ctx: &StreamCtx, dir: Direction, missing: u64) {
        self.0.gap(ctx, dir, missing);
        self.1.gap(ctx, dir, missing);
    }

    fn end(&mut self, ctx: &StreamCtx, dir: Direction) {
        self.0.end(ctx, dir);
        self.1.end(ctx, dir);
    }

    fn closed(&mut self, ctx: &StreamCtx) {
        self.0.closed(ctx);
        self.1.closed(ctx);
    }
}

/// `None` ignores everything.
impl<C: StreamConsumer> StreamConsumer for Option<C> {
    fn data(&mut self, ctx: &StreamCtx, dir: Direction, bytes: &[u8]) {
        if let Some(c) = self {
            c.data(ctx, dir, bytes);
        }
    }

    fn gap(&mut self, ctx: &StreamCtx, dir: Direction, missing: u64) {
        if let Some(c) = self {
            c.gap(ctx, dir, missing);
        }
    }

    fn end(&mut self, ctx: &StreamCtx, dir: Direction) {
        if let Some(c) = self {
            c.end(ctx, dir);
        }
    }

    fn closed(&mut self, ctx: &StreamCtx) {
        if let Some(c) = self {
            c.closed(ctx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Endpoint;

    #[derive(Default)]
    struct Log(Vec<String>);

    impl StreamConsumer for Log {
        fn data(&mut self, ctx: &StreamCtx, dir: Direction, bytes: &[u8]) {
            self.0.push(format!(
                "{} {dir:?} {}",
                ctx.stream,
                String::from_utf8_lossy(bytes)
            ));
        }
        fn gap(&mut self, _: &StreamCtx, dir: Direction, missing: u64) {
            self.0.push(format!("gap {dir:?} {missing}"));
        }
        fn end(&mut self, _: &StreamCtx, dir: Direction) {
            self.0.push(format!("end {dir:?}"));
        }
        fn closed(&mut self, ctx: &StreamCtx) {
            self.0.push(format!("closed {}", ctx.stream));
        }
    }

    #[test]
    fn both_sides_see_every_callback_in_order() {
        let ep = Endpoint {
            ip: std::net::Ipv4Addr::LOCALHOST.into(),
            port: 1,
        };
        let ctx = StreamCtx {
            stream: 7,
            frame: 1,
            ts_ns: 0,
            client: ep,
            server: ep,
        };
        let mut a = Log::default();
        let mut b = Some(Log::default());
        let mut off: Option<Log> = None;
        {
            let mut t = Tee(&mut a, &mut b);
            t.data(&ctx, Direction::ToServer, b"GET");
            t.gap(&ctx, Direction::ToClient, 5);
            t.end(&ctx, Direction::ToClient);
            t.closed(&ctx);
        }
        let want = [
            "7 ToServer GET",
            "gap ToClient 5",
            "end ToClient",
            "closed 7",
        ];
        assert_eq!(a.0, want);
        assert_eq!(b.map(|l| l.0).unwrap_or_default(), want);
        off.data(&ctx, Direction::ToServer, b"x");
        assert!(off.is_none());
    }
}
