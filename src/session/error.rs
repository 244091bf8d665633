//! Why the session refuses a CONNECT or a SEND. Each is answered on the wire (CONNACK,
//! SENDACK) with the reason code [`super::wire`] chooses for it.

use crate::hub::{self, AuthError};
use crate::proto::crypto::{ClientKeyError, PayloadError};
use crate::proto::MIN_VERSION;

/// A refused CONNECT: CONNACK with [`super::wire::connack_reason`], then close.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The client's protocol version is below the oldest the server speaks.
    #[error("protocol version {version} < {MIN_VERSION}")]
    VersionTooOld {
        /// The CONNECT's version.
        version: u8,
    },
    /// The ClientKey is empty, not base64, not 32 bytes, or a low-order point (wkproto.md
    /// section 6, step 2).
    #[error("{0}")]
    ClientKey(ClientKeyError),
    /// The uid is not the one the TLS client certificate allows.
    #[error("uid {uid:?} is not the client certificate's {required:?}")]
    NotCertificateUid {
        /// The CONNECT's uid.
        uid: String,
        /// The certificate's subject CN ("" when it has none usable).
        required: String,
    },
    /// The hub refuses the uid and token.
    #[error("token refused for uid {uid:?}")]
    Auth {
        /// The CONNECT's uid.
        uid: String,
        /// Why.
        why: AuthError,
    },
}

/// A refused SEND: SENDACK with [`super::wire::sendack_reason`]; the session goes on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The msgKey does not verify over the SEND's fields (wkproto.md section 6, step 6).
    #[error("msgKey does not verify")]
    MsgKey,
    /// The payload does not decrypt.
    #[error("payload does not decrypt: {0}")]
    Payload(PayloadError),
    /// Verified and decrypted, but the hub does not accept it.
    #[error("{0}")]
    Refused(hub::SendError),
}
