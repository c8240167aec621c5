//! `meadow crew`: crews from the command line.

use anyhow::{Context, Result, bail};
use meadow_core::crew::invite::CrewInvite;
use meadow_core::crew::ops::Heading;
use meadow_core::node::Node;
use meadow_core::op::FestivalId;
use meadow_core::view::CrewView;
use serde_json::{Value, json};

use crate::args::CrewCmd;
use crate::parse_key;

/// Runs one crew command on the festival `f`.
pub(crate) fn run(node: &mut Node, f: FestivalId, cmd: CrewCmd) -> Result<()> {
    match cmd {
        CrewCmd::Create { name } => {
            let id = node.create_crew(f, &name)?;
            out!("created crew {name:?} ({id}); invite people with `meadow crew invite {}`", &id[..8]);
        }
        CrewCmd::Devices { name } => {
            let id = node.create_devices_crew(f, &name)?;
            out!("created {name:?} ({id}), the crew of your own devices");
            out!("invite your other devices with `meadow crew invite {}`; they then follow this one's", &id[..8]);
            out!("favourites, hidden events, mutes and what you have seen");
        }
        CrewCmd::Invite { crew, hours } => {
            let invite = node.crew_invite(f, &crew, hours.saturating_mul(3600))?;
            out!("{}", invite.to_link());
            out!("good for one person for {hours} h; it lets them ask to join, and nothing else");
        }
        CrewCmd::Join { link } => {
            let invite = CrewInvite::parse(&link)?;
            if invite.festival != f {
                node.festival(&invite.festival).context("join the festival first (meadow join)")?;
            }
            node.join_crew(&invite)?;
            out!("asked to join; you are in once the admin's device has seen the request (sync with anyone)");
        }
        CrewCmd::Leave { crew } => {
            node.leave_crew(f, &crew)?;
            out!("left the crew");
        }
        CrewCmd::Remove { crew, member } => {
            node.remove_from_crew(f, &crew, &parse_key(&member)?)?;
            out!("removed; the others get a new key that member cannot read");
        }
        CrewCmd::List { json } => {
            let crews = node.crews(&f)?;
            if json {
                out!("{}", serde_json::to_string_pretty(&Value::Array(crews.iter().map(crew_json).collect()))?);
            } else if crews.is_empty() {
                out!("no crews here yet: `meadow crew create NAME`, or join one from an invite");
            }
            for c in crews.iter().filter(|_| !json) {
                let admin = if c.is_admin { ", you are its admin" } else { "" };
                let what = if c.devices { "devices" } else { "members" };
                out!("{}  {}  {} {what}{admin}", &c.id[..8], c.name, c.members.len());
            }
        }
        CrewCmd::Show { crew, json } => {
            let crews = node.crews(&f)?;
            let wanted = crew.trim().to_ascii_lowercase();
            let Some(c) = crews.iter().find(|c| c.id.starts_with(&wanted) && wanted.len() >= 4) else {
                bail!("no crew {crew} here");
            };
            let clashes = node.crew_clashes(&f, c)?;
            let title = |id: &meadow_core::op::OpId| -> String {
                node.event_detail(&f, id).ok().flatten().map(|d| d.event.title).unwrap_or_default()
            };
            if json {
                let mut v = crew_json(c);
                v["clashes"] = clashes
                    .iter()
                    .map(|k| {
                        json!({"first": k.first.to_hex(), "first_event": k.first_event.to_hex(),
                                    "second": k.second.to_hex(), "second_event": k.second_event.to_hex()})
                    })
                    .collect();
                out!("{}", serde_json::to_string_pretty(&v)?);
                return Ok(());
            }
            out!("{} ({} members, epoch {})", c.name, c.members.len(), c.epoch);
            for m in &c.members {
                let who =
                    if m.name.is_empty() { m.fingerprint.clone() } else { format!("{} ({})", m.name, m.fingerprint) };
                let me = if m.is_me { " (you)" } else { "" };
                out!("\n{who}{me}");
                if let (Some(h), Some(e)) = (m.heading, m.heading_event) {
                    let verb = if h == Heading::HereNow { "at" } else { "heading to" };
                    out!("  {verb} {}", title(&e));
                }
                if !m.note.is_empty() {
                    out!("  note: {}", m.note);
                }
                if m.silent {
                    out!("  has shared nothing yet");
                }
                for e in &m.favourites {
                    out!("  ★ {}", title(e));
                }
            }
            for k in &clashes {
                out!(
                    "\nclash: {} at {} while {} at {}",
                    k.first.fingerprint(),
                    title(&k.first_event),
                    k.second.fingerprint(),
                    title(&k.second_event)
                );
            }
        }
        CrewCmd::Share { note, heading, here, nowhere } => {
            let target = match (heading, here) {
                (Some(e), _) => Some(Some((Heading::HeadingTo, node.resolve_event(&f, &e)?))),
                (_, Some(e)) => Some(Some((Heading::HereNow, node.resolve_event(&f, &e)?))),
                _ if nowhere => Some(None),
                _ => None,
            };
            node.share_with_crews(f, note, target)?;
            out!("shared with your crews");
        }
    }
    Ok(())
}

fn crew_json(c: &CrewView) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "admin": c.admin.to_hex(),
        "is_admin": c.is_admin,
        "epoch": c.epoch,
        "members": c.members.iter().map(|m| json!({
            "key": m.key.to_hex(),
            "name": m.name,
            "fingerprint": m.fingerprint,
            "is_me": m.is_me,
            "favourites": m.favourites.iter().map(|e| e.to_hex()).collect::<Vec<_>>(),
            "heading": m.heading.map(|h| if h == Heading::HereNow { "here" } else { "heading" }),
            "heading_event": m.heading_event.map(|e| e.to_hex()),
            "note": m.note,
            "silent": m.silent,
        })).collect::<Vec<_>>(),
    })
}
