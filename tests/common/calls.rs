//! What the call tests share: the demo call recordings (fixtures/calls) and
//! the server's real call wiring (`CallRuntime`, as `ratiba serve` builds it)
//! listening on loopback, plus the demo tenant seeded on a private cluster.

use std::net::SocketAddr;
use std::path::PathBuf;

use ratiba::adapters::speech::scripted::Transcript;
use ratiba::config::{Secret, Settings, Source};
use ratiba::core::audio::wav;
use ratiba::runtime::call_setup::CallRuntime;
use ratiba::runtime::shutdown::Shutdown;
use ratiba::storage::{Db, TenantHandle, Vault, migrate, seed};

/// A demo call's recording and its transcript sidecar.
pub fn demo_call(name: &str) -> (wav::Wav, Transcript) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/calls");
    let audio = wav::parse(&std::fs::read(dir.join(format!("{name}.wav"))).unwrap()).unwrap();
    let t = Transcript::parse(&std::fs::read(dir.join(format!("{name}.json"))).unwrap()).unwrap();
    (audio, t)
}

/// The call runtime serving HTTP and media sockets on a loopback port
/// until `shutdown` is triggered.
pub struct CallServer {
    pub addr: SocketAddr,
    pub shutdown: Shutdown,
    pub calls: CallRuntime,
}

/// Starts the call runtime on `db` with `settings` (Twilio signatures off:
/// the simulated caller does not sign) on a free loopback port.
pub async fn serve_calls(db: &Db, settings: &Settings) -> CallServer {
    let mut settings = settings.clone();
    settings.telephony.twilio_auth_token = None;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = Shutdown::new();
    let calls = CallRuntime::start(db, &settings, addr, &shutdown);
    let app = calls.router();
    let server_shutdown = shutdown.clone();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { server_shutdown.wait().await })
            .await
            .unwrap()
    });
    CallServer {
        addr,
        shutdown,
        calls,
    }
}

/// The demo tenant on the database at `url` (a private cluster's): the
/// server's own pool shape, the public chain, the demo seed; with the
/// settings a node on that database would have.
pub async fn seeded_demo(url: &str) -> (Db, TenantHandle, Settings) {
    let db = Db::connect_with(url, 8).await.unwrap();
    migrate::migrate_public(&db).await.unwrap();
    let vault = Vault::new(&Secret::new(super::TEST_FERNET_KEY)).unwrap();
    let report = seed::seed_demo(&db, Some(&vault)).await.unwrap();
    let demo = db.tenant(&report.tenant.slug);
    let mut src = Source::default();
    src.set("DATABASE_URL", url)
        .set("RATIBA_FERNET_KEY", super::TEST_FERNET_KEY);
    let settings = Settings::from_source(&src).unwrap();
    (db, demo, settings)
}
