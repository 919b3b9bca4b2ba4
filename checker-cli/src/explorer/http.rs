//! Just enough HTTP/1.1 for the Explorer: GET requests on a local socket, one thread per
//! connection, every answer closing its connection. No keep-alive, no request bodies, no
//! percent-decoding (the Explorer's paths are digits and slashes), and a bound on everything a
//! client can make the server hold.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The longest request head (request line and headers) the server reads.
const REQUEST_HEAD_BYTES_MAX: usize = 16 * 1024;
/// Connections served at once; more wait in the listener's backlog.
const CONNECTIONS_MAX: usize = 32;
/// How long a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A request: its path (`/.path/0/1`) and query (`step=3`), split.
pub struct Request {
    pub path: String,
    pub query: String,
}

impl Request {
    /// The value of `name` in the query, if given.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
    }
}

/// An answer: status, content type and body.
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Response {
    pub fn ok(content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status: 200,
            content_type,
            body: body.into(),
        }
    }

    pub fn json(value: &serde_json::Value) -> Self {
        Response::ok("application/json", value.to_string())
    }

    pub fn error(status: u16, message: impl Into<String>) -> Self {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: message.into().into_bytes(),
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    }
}

/// Answers every connection on `listener` with `handle`, forever.
pub fn serve(listener: TcpListener, handle: Arc<dyn Fn(&Request) -> Response + Send + Sync>) {
    let open = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        while open.load(Ordering::Acquire) >= CONNECTIONS_MAX {
            std::thread::sleep(Duration::from_millis(5));
        }
        open.fetch_add(1, Ordering::AcqRel);
        let handle = Arc::clone(&handle);
        let open = Arc::clone(&open);
        std::thread::spawn(move || {
            // A client that goes away mid-answer is its own business.
            let _ = answer(stream, &*handle);
            open.fetch_sub(1, Ordering::AcqRel);
        });
    }
}

fn answer(mut stream: TcpStream, handle: &dyn Fn(&Request) -> Response) -> std::io::Result<()> {
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    let response = match read_request(&stream) {
        Ok(request) => handle(&request),
        Err(response) => response,
    };
    write!(
        stream,
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n\
         Connection: close\r\n\r\n",
        response.status,
        reason(response.status),
        response.content_type,
        response.body.len()
    )?;
    stream.write_all(&response.body)?;
    stream.flush()
}

/// Reads a request head; an answer instead if it is not a GET we can serve.
fn read_request(stream: &TcpStream) -> Result<Request, Response> {
    let mut reader = BufReader::new(stream.take(REQUEST_HEAD_BYTES_MAX as u64));
    let mut request_line = String::new();
    reader
        .read_line(&mut request_line)
        .map_err(|_| Response::error(400, "the request line is not text"))?;
    // The headers say nothing the Explorer needs; they are read only to reach the end.
    loop {
        let mut header = String::new();
        let read = reader
            .read_line(&mut header)
            .map_err(|_| Response::error(400, "a header is not text"))?;
        if read == 0 {
            if header.is_empty() && !request_line.ends_with('\n') {
                return Err(Response::error(431, "the request head is too long"));
            }
            break;
        }
        if header == "\r\n" || header == "\n" {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(Response::error(400, "not an HTTP request line"));
    };
    if method != "GET" {
        return Err(Response::error(
            405,
            "the Explorer answers GET requests only",
        ));
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    Ok(Request {
        path: path.to_owned(),
        query: query.to_owned(),
    })
}
