//! Integration tests of the ingestion server: each starts the real application on a random
//! port with a temporary data dir and talks HTTP to it, as the widget and the city's tools
//! do. One test binary, so the server crate is linked once.

mod helpers;
mod catalog;
mod city;
mod classes;
mod cli;
mod cluster;
mod crash;
mod districts;
mod faults;
mod follow_up;
mod fuzz_regressions;
mod validation;
mod webhook;
mod widget;
mod health;
mod limits;
mod map;
mod migrate;
mod nats;
mod object_storage;
mod open311;
mod open311_door;
mod openapi;
mod photos;
mod privacy;
mod receiver;
mod reports;
mod relating;
mod pipeline_events;
mod schema;
mod security;
mod store;
