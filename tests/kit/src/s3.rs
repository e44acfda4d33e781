//! moto's S3 server (from PyPI, in the test Python) on a loopback port, for the tests of the
//! lake's warehouse and the platform's landing bucket: a real S3 API over HTTP, not a mock of a
//! client library.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The credentials the server is given (moto accepts any).
pub const ACCESS_KEY_ID: &str = "etr-test-key";
pub const SECRET_ACCESS_KEY: &str = "etr-test-secret";
pub const REGION: &str = "us-east-1";

/// A running server, killed when dropped (a failing assertion included).
pub struct S3Server {
    child: Child,
    python: PathBuf,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
}

impl S3Server {
    /// Starts moto's server with `python` (see [`crate::python::with_modules`], with
    /// `moto.server, boto3`) and waits until it listens.
    pub fn start(python: &Path) -> S3Server {
        // A port the kernel just gave out and took back: free unless another process races for it.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(python)
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto's server starts");
        let server = S3Server { child, python: python.to_owned(), endpoint: format!("http://127.0.0.1:{port}") };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "moto's server did not listen on {port} in 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// Creates a bucket (with boto3: a client independent of ours).
    pub fn create_bucket(&self, bucket: &str) {
        let script = format!(
            "import boto3; boto3.client('s3', endpoint_url='{}', aws_access_key_id='{ACCESS_KEY_ID}', \
             aws_secret_access_key='{SECRET_ACCESS_KEY}', region_name='{REGION}').create_bucket(Bucket='{bucket}')",
            self.endpoint
        );
        let made = Command::new(&self.python).args(["-c", &script]).output().unwrap();
        assert!(made.status.success(), "creating the bucket: {}", String::from_utf8_lossy(&made.stderr));
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
