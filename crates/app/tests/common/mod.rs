//! What several app test files share: the demo implementation on a store, at a fixed time,
//! with cheap password hashing.

use chrono::{TimeZone, Utc};
use onramp_app::{App, AppConfig};
use onramp_domain::clock::ManualClock;
use onramp_store::Store;
use std::sync::Arc;

/// The demo implementation loaded on `store`, with the clock at 2 March 2026, 09:00 UTC.
#[allow(dead_code)]
pub async fn demo(store: Store) -> App {
    demo_with_clock(store).await.0
}

/// The demo, and its clock for the test to move.
#[allow(dead_code)]
pub async fn demo_with_clock(store: Store) -> (App, ManualClock) {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap());
    let app = App::new(
        store,
        Arc::new(clock.clone()),
        AppConfig {
            argon2_memory_kib: 1024,
            argon2_iterations: 1,
            ..Default::default()
        },
    );
    onramp_app::demo::load(&app).await.unwrap();
    (app, clock)
}
