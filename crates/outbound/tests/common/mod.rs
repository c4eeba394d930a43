#![allow(dead_code)]
pub mod sink;
pub mod store;
