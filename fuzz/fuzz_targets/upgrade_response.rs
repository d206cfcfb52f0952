//! Any bytes as a server's answer to the WebSocket upgrade (and what follows it), through the
//! real exchange over an in-memory connection: no panic, and always an answer within the
//! deadline.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use stream_doctor::net::target::Target;
use stream_doctor::net::upgrade::{self, Ask};
use tokio::io::AsyncWriteExt;

fuzz_target!(|data: &[u8]| {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    else {
        return;
    };
    let Ok(target) = Target::parse("ws://fuzz.test/api/calls/1/audio") else {
        return;
    };
    runtime.block_on(async {
        let (client, mut server) = tokio::io::duplex(1 << 20);
        let answer = data.to_vec();
        tokio::spawn(async move {
            let _ = server.write_all(&answer).await;
            let _ = server.shutdown().await;
            // Held open until the exchange is done, as a silent server would.
            tokio::time::sleep(Duration::from_secs(5)).await;
        });
        let ask = Ask {
            headers: &[],
            origin: None,
        };
        let exchange = upgrade::exchange(
            Box::new(client),
            &target,
            "/api/calls/1/audio",
            ask,
            Duration::from_millis(200),
        )
        .await;
        let _ = exchange.upgraded();
        let _ = exchange.problem.as_ref().map(ToString::to_string);
    });
});
