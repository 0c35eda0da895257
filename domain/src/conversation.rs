//! Kinds of conversation and roles of their members.

use serde::{Deserialize, Serialize};

/// What a conversation is. Stored as the lowercase string of the variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ConversationKind {
    /// A private conversation between exactly two users.
    Direct,
    /// A private group; members are added by its owners and admins.
    Group,
    /// A named room; public rooms can be browsed and joined by anyone signed in.
    Room,
}

/// A member's role in a conversation. Stored as the lowercase string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum MemberRole {
    /// Created the conversation; may manage members and admins.
    Owner,
    /// May add and remove members.
    Admin,
    /// May read and post.
    Member,
}

impl MemberRole {
    /// Whether this role may add members to a group.
    pub const fn may_add_members(self) -> bool {
        matches!(self, Self::Owner | Self::Admin)
    }

    /// Whether this role may delete other members' messages in its
    /// conversation (moderation); nobody may edit them.
    pub const fn may_delete_messages(self) -> bool {
        matches!(self, Self::Owner | Self::Admin)
    }

    /// Whether this role may remove another member whose role is `target`
    /// from a group: owners anyone, admins anyone but owners. (Anyone may
    /// remove themselves: that is leaving.)
    pub const fn may_remove(self, target: Self) -> bool {
        match self {
            Self::Owner => true,
            Self::Admin => !matches!(target, Self::Owner),
            Self::Member => false,
        }
    }
}

/// `as_str`/`from_stored` for an enum stored as text (one place for the
/// pattern; the serde names must agree, which each type's test checks).
macro_rules! str_enum {
    ($ty:ty { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// The stored (and serialized) form.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// Parses the stored form; `None` for anything else.
            pub fn from_stored(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

pub(crate) use str_enum;

str_enum!(ConversationKind { Direct => "direct", Group => "group", Room => "room" });
str_enum!(MemberRole { Owner => "owner", Admin => "admin", Member => "member" });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_round_trips_and_matches_serde() {
        for kind in [
            ConversationKind::Direct,
            ConversationKind::Group,
            ConversationKind::Room,
        ] {
            assert_eq!(ConversationKind::from_stored(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        for role in [MemberRole::Owner, MemberRole::Admin, MemberRole::Member] {
            assert_eq!(MemberRole::from_stored(role.as_str()), Some(role));
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
        }
        assert_eq!(MemberRole::from_stored("root"), None);
    }

    #[test]
    fn owners_and_admins_manage_members_admins_not_owners() {
        use MemberRole::*;
        assert!(Owner.may_add_members() && Admin.may_add_members() && !Member.may_add_members());
        for target in [Owner, Admin, Member] {
            assert!(Owner.may_remove(target));
            assert!(!Member.may_remove(target));
        }
        assert!(!Admin.may_remove(Owner));
        assert!(Admin.may_remove(Admin) && Admin.may_remove(Member));
    }
}
