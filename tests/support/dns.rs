//! A name server on 127.0.0.1 for the tests: answers A queries from a small zone, following
//! CNAMEs as a real server puts them in one answer, and NXDOMAIN for names it does not have.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use hickory_resolver::proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_resolver::proto::rr::rdata::{A, CNAME};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

#[derive(Clone, Debug)]
pub enum Entry {
    Alias(&'static str),
    Address(Ipv4Addr),
}

pub struct DnsServer {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn answer(zone: &HashMap<String, Entry>, query: &Message) -> Message {
    let mut response = Message::response(query.metadata.id, OpCode::Query);
    response.metadata.message_type = MessageType::Response;
    response.metadata.authoritative = true;
    response.metadata.recursion_desired = query.metadata.recursion_desired;
    response.metadata.recursion_available = true;
    let Some(question) = query.queries.first() else {
        response.metadata.response_code = ResponseCode::FormErr;
        return response;
    };
    response.add_query(question.clone());
    let mut name = key(&question.name().to_string());
    if !zone.contains_key(&name) {
        response.metadata.response_code = ResponseCode::NXDomain;
        return response;
    }
    while let Some(entry) = zone.get(&name) {
        let owner = Name::from_ascii(format!("{name}.")).unwrap();
        match entry {
            Entry::Alias(target) => {
                let target_name = Name::from_ascii(format!("{}.", key(target))).unwrap();
                let record = Record::from_rdata(owner, 60, RData::CNAME(CNAME(target_name)));
                response.add_answer(record);
                name = key(target);
            }
            Entry::Address(ip) => {
                if question.query_type() == RecordType::A {
                    response.add_answer(Record::from_rdata(owner, 60, RData::A(A(*ip))));
                }
                break;
            }
        }
    }
    response
}

impl DnsServer {
    pub async fn start(entries: &[(&'static str, Entry)]) -> Self {
        let zone: Arc<HashMap<String, Entry>> = Arc::new(
            entries
                .iter()
                .map(|(name, entry)| (key(name), entry.clone()))
                .collect(),
        );
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            loop {
                let Ok((n, from)) = socket.recv_from(&mut buf).await else {
                    continue;
                };
                let Ok(query) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                if let Ok(bytes) = answer(&zone, &query).to_vec() {
                    let _ = socket.send_to(&bytes, from).await;
                }
            }
        });
        Self { addr, task }
    }
}
