//! Roles: who speaks for a festival. The owner names organisers; revocations cut a member's log
//! at a position, and revocations that cut each other were concurrent and all stand. Everything
//! here depends only on the set of role ops, never on the order they arrived in.

use super::*;

/// A member's standing in a festival.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberStatus {
    /// An organiser: their ops are official.
    Organiser,
    /// A former organiser: their ops up to `after_seq` stay official.
    Revoked {
        /// Last sequence number that stays official.
        after_seq: Option<u64>,
    },
}

/// A role op as the role fold needs it.
#[derive(Debug, Clone)]
pub struct RoleOp {
    /// Order key of the op.
    pub stamp: Stamp,
    /// Op id, the last tie-breaker.
    pub id: OpId,
    /// Who issued it.
    pub issuer: PublicKey,
    /// Its position in the issuer's log: what a revocation of the issuer is measured against.
    pub seq: u64,
    /// Whom it concerns.
    pub member: PublicKey,
    /// Grant (`None`) or revoke with the member's last official seq.
    pub revoke: Option<Option<u64>>,
}

/// Who holds which role in a festival, derived from its creation op and every role op.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles {
    /// The creator, once its creation op is known.
    pub owner: Option<PublicKey>,
    /// Organisers and former organisers.
    pub members: BTreeMap<PublicKey, MemberStatus>,
}

/// Roles while revocations are being settled: which grants count, each member's standing, and
/// how far each member is from the owner along counting grants.
#[derive(Debug, Default)]
struct RoleView {
    members: BTreeMap<PublicKey, MemberStatus>,
    depth: BTreeMap<PublicKey, usize>,
}

impl RoleView {
    /// Whether `key` acts with authority at position `seq` of its log.
    fn may_act(&self, owner: &PublicKey, key: &PublicKey, seq: u64) -> bool {
        key == owner || status_allows(self.members.get(key), seq)
    }
}

fn status_allows(status: Option<&MemberStatus>, seq: u64) -> bool {
    match status {
        Some(MemberStatus::Organiser) => true,
        Some(MemberStatus::Revoked { after_seq: Some(last) }) => seq <= *last,
        _ => false,
    }
}

/// The roles that follow from the counting grants and the standing revocations: for each
/// member, the last of these ops about them in (stamp, id) order decides; a grant restores a
/// revoked member, several revocations since the last grant keep the earliest cut.
fn view_of(owner: &PublicKey, ops: &[RoleOp], standing: &BTreeSet<OpId>) -> RoleView {
    let mut counted: BTreeSet<OpId> = BTreeSet::new();
    let mut view = RoleView::default();
    // Least fixpoint: a grant counts once its issuer is known to act with authority at its
    // position. Cuts only come from standing revocations, fixed for this call.
    loop {
        let before = counted.len();
        let newly: Vec<OpId> = ops
            .iter()
            .filter(|o| o.revoke.is_none() && !counted.contains(&o.id) && view.may_act(owner, &o.issuer, o.seq))
            .map(|o| o.id)
            .collect();
        counted.extend(newly);
        view.members.clear();
        for o in ops.iter().filter(|o| counted.contains(&o.id) || standing.contains(&o.id)) {
            let next = match (o.revoke, view.members.get(&o.member)) {
                (None, _) => Some(MemberStatus::Organiser),
                (Some(cut), Some(MemberStatus::Revoked { after_seq })) => {
                    Some(MemberStatus::Revoked { after_seq: min_cut(*after_seq, cut) })
                }
                (Some(cut), Some(MemberStatus::Organiser)) => Some(MemberStatus::Revoked { after_seq: cut }),
                // Revoking someone never granted changes nothing.
                (Some(_), None) => None,
            };
            if let Some(n) = next {
                view.members.insert(o.member, n);
            }
        }
        if counted.len() == before {
            break;
        }
    }
    // Distance from the owner along counting grants (members are few: plain relaxation).
    view.depth.insert(*owner, 0);
    loop {
        let mut changed = false;
        for o in ops.iter().filter(|o| counted.contains(&o.id)) {
            if let Some(&d) = view.depth.get(&o.issuer)
                && view.depth.get(&o.member).is_none_or(|&m| m > d + 1)
            {
                view.depth.insert(o.member, d + 1);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    view
}

/// Whether revocation `r` takes away the authority behind op `o`: it names `o`'s issuer, and
/// `o` lies past the cut in its issuer's log.
fn cuts(r: &RoleOp, o: &RoleOp) -> bool {
    match r.revoke {
        Some(cut) => r.member == o.issuer && r.issuer != o.issuer && cut.is_none_or(|c| o.seq > c),
        None => false,
    }
}

/// Which of one stage's revocations stand. A revocation falls if a standing one cuts it and it
/// does not cut that one back: a member who was removed cannot remove anybody with a later op
/// of their log, whatever clock it carries. Revocations that cut each other (or a ring of them)
/// were concurrent and all stand, so organisers who remove each other both lose the role. The
/// result depends only on the set of revocations.
fn settle_stage(cands: &[&RoleOp]) -> Vec<OpId> {
    let n = cands.len();
    // incoming[v]: the revocations that cut v.
    let mut by_issuer: BTreeMap<PublicKey, Vec<usize>> = BTreeMap::new();
    for (i, c) in cands.iter().enumerate() {
        by_issuer.entry(c.issuer).or_default().push(i);
    }
    let mut incoming: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (u, r) in cands.iter().enumerate() {
        for &v in by_issuer.get(&r.member).map(Vec::as_slice).unwrap_or(&[]) {
            if cuts(r, cands[v]) {
                incoming[v].push(u);
            }
        }
    }
    let mut state: Vec<Option<bool>> = vec![None; n];
    loop {
        let mut progress = false;
        for v in 0..n {
            if state[v].is_some() {
                continue;
            }
            let live = || incoming[v].iter().copied().filter(|&u| state[u] != Some(false));
            if live().any(|u| state[u] == Some(true) && !cuts(cands[v], cands[u])) {
                state[v] = Some(false);
                progress = true;
            } else if live().all(|u| state[u] == Some(true)) {
                state[v] = Some(true);
                progress = true;
            }
        }
        if progress {
            continue;
        }
        let open: Vec<usize> = (0..n).filter(|&v| state[v].is_none()).collect();
        if open.is_empty() {
            break;
        }
        // Every open revocation waits on another open one: they form rings. Those rings that no
        // other open revocation cuts into stand (each was cut only from within its ring).
        for v in source_rings(n, &open, &incoming, &state) {
            state[v] = Some(true);
        }
    }
    (0..n).filter(|&v| state[v] == Some(true)).map(|v| cands[v].id).collect()
}

/// The open revocations whose ring (strongly connected set, under "cuts" among open ones) no
/// open revocation outside it cuts into. Kosaraju's two passes, iterative: time and memory grow
/// with the cuts, not with their square, however many revocations colluding organisers sign.
fn source_rings(n: usize, open: &[usize], incoming: &[Vec<usize>], state: &[Option<bool>]) -> Vec<usize> {
    let is_open = |v: usize| state[v].is_none();
    let mut outgoing: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &v in open {
        for &u in incoming[v].iter().filter(|&&u| is_open(u)) {
            outgoing[u].push(v);
        }
    }
    // First pass: finishing order along outgoing cuts.
    let mut visited = vec![false; n];
    let mut order = Vec::with_capacity(open.len());
    for &root in open {
        if visited[root] {
            continue;
        }
        visited[root] = true;
        let mut stack = vec![(root, 0usize)];
        while let Some((v, i)) = stack.pop() {
            if let Some(&w) = outgoing[v].get(i) {
                stack.push((v, i + 1));
                if !visited[w] {
                    visited[w] = true;
                    stack.push((w, 0));
                }
            } else {
                order.push(v);
            }
        }
    }
    // Second pass, along incoming cuts in reverse finishing order: each tree is one ring.
    let mut ring = vec![usize::MAX; n];
    let mut rings = 0;
    for &root in order.iter().rev() {
        if ring[root] != usize::MAX {
            continue;
        }
        ring[root] = rings;
        let mut stack = vec![root];
        while let Some(v) = stack.pop() {
            for &u in incoming[v].iter().filter(|&&u| is_open(u)) {
                if ring[u] == usize::MAX {
                    ring[u] = rings;
                    stack.push(u);
                }
            }
        }
        rings += 1;
    }
    let mut cut_into = vec![false; rings];
    for &v in open {
        if incoming[v].iter().any(|&u| is_open(u) && ring[u] != ring[v]) {
            cut_into[ring[v]] = true;
        }
    }
    open.iter().copied().filter(|&v| !cut_into[ring[v]]).collect()
}

fn min_cut(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        _ => None,
    }
}

impl Roles {
    /// Folds the role ops of a festival. The result depends on the set of ops only, never on the
    /// order they arrived in, and never on clocks where a clock could be backdated:
    ///
    /// * an op acts with authority if its issuer is the owner, or a member whose standing allows
    ///   that position of their log (a revoked member's ops after the cut the revocation names
    ///   count for nothing, whatever clock they carry);
    /// * revocations are settled in stages by their issuer's distance from the owner along
    ///   counting grants (the owner's first, then those of organisers the owner named, ...);
    ///   within a stage a revocation falls if another that stands cuts it (names its issuer,
    ///   with a cut before it in the issuer's log) and it does not cut that one back; those that
    ///   cut each other all stand, so two organisers who revoke each other both lose the role
    ///   ("strong removal"). A removed member can thus strike back only at whoever removed them,
    ///   never at a bystander, and never keep the role by revoking or by naming a helper; a
    ///   standing revocation stays standing;
    /// * for each member, the last counting grant or standing revocation in (Lamport, author, id)
    ///   order decides whether they are an organiser now: organisers can still re-name a member.
    pub fn compute(owner: Option<PublicKey>, ops: Vec<RoleOp>) -> Roles {
        let Some(owner_key) = owner else {
            return Roles { owner: None, members: BTreeMap::new() };
        };
        let mut ops: Vec<RoleOp> = ops.into_iter().filter(|o| o.member != owner_key).collect();
        ops.sort_by_key(|o| (o.stamp, o.id));
        let mut standing: BTreeSet<OpId> = BTreeSet::new();
        let mut stage = 0usize;
        loop {
            let view = view_of(&owner_key, &ops, &standing);
            let deepest = view.depth.values().copied().max().unwrap_or(0);
            if stage > deepest {
                return Roles { owner, members: view.members };
            }
            let candidates: Vec<&RoleOp> = ops
                .iter()
                .filter(|o| o.revoke.is_some() && !standing.contains(&o.id))
                .filter(|o| view.depth.get(&o.issuer) == Some(&stage) && view.may_act(&owner_key, &o.issuer, o.seq))
                .collect();
            standing.extend(settle_stage(&candidates));
            stage += 1;
        }
    }

    /// Whether `key` may now name or remove organisers and hide content.
    pub fn has_authority(&self, key: &PublicKey) -> bool {
        Some(*key) == self.owner || matches!(self.members.get(key), Some(MemberStatus::Organiser))
    }

    /// Whether the op at `seq` of `author`'s log counts as official.
    pub fn is_official(&self, author: &PublicKey, seq: u64) -> bool {
        Some(*author) == self.owner || status_allows(self.members.get(author), seq)
    }

    /// Current organisers (owner excluded).
    pub fn organisers(&self) -> Vec<PublicKey> {
        self.members.iter().filter(|(_, s)| matches!(s, MemberStatus::Organiser)).map(|(k, _)| *k).collect()
    }
}

/// Whether `editor` (at `seq` in its log) may change or delete an entity made by `creator`:
/// creators edit their own, official authors edit anything.
pub fn may_edit(roles: &Roles, creator: &PublicKey, editor: &PublicKey, seq: u64) -> bool {
    creator == editor || roles.is_official(editor, seq)
}

/// Whether a role op is about the organiser role (the only one so far).
pub fn is_organiser(role: Role) -> bool {
    role == Role::Organiser
}
