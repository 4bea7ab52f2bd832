//! The gateway binary: every socket, timer and task of the product lives here.

fn main() {
    println!("gateway: not yet wired");
}
