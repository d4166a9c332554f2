//! Photos appended to pack files: how the local [`crate::photo_store`] keeps photos (their
//! thumbnails stay files of their own: few are ever made). One file per photo costs an inode, a rename and two
//! fsyncs (the file's and its directory's) per photo — about a tenth of a photo report's CPU
//! on a virtual machine, where every flush is a trip to the host. Here photos that arrive
//! together are appended to one file and made durable by one `fdatasync`.
//!
//! A pack is a run of records, each starting on a 4 KiB boundary: a 64-byte header (magic,
//! the photo's SHA-256, its length, a check of the header itself), the photo, zero padding.
//! Nothing else is written into a pack, so opening one rebuilds the index by reading the
//! headers alone. A removed photo's blocks are punched out of the file (its bytes are
//! personal data and must really go; where the file system cannot punch holes they are
//! overwritten with zeros), which leaves zeros where its header was: the scan steps over
//! zeroed blocks to the next header.
//!
//! One process writes: the server holds an exclusive lock on `LOCK` in the pack directory
//! while the packs are open. A second process (an operator command beside a running server)
//! opens them read-only: it reads what is stored and neither appends, removes nor repairs —
//! a record the server is writing at that moment would look torn to it.
//!
//! Crash safety: an append returns only after the `fdatasync` that covers it. A crash can
//! leave the records appended since the last `fdatasync` torn or zero-filled; they were
//! never acknowledged. Opening the newest pack checks the photos of its last
//! [`VERIFIED_TAIL`] records against their hashes and cuts the file before the first that
//! does not match, or before a header that does not read.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError, RwLock};

use sha2::{Digest, Sha256};

/// Records start on multiples of this (the file system's block: a removed record's blocks
/// can be freed whole).
const BLOCK: u64 = 4096;
/// Header bytes before a photo.
const HEADER: u64 = 64;
const MAGIC: &[u8; 8] = b"LXPHOTO1";
/// A pack is closed and the next begun once it is this large.
const PACK_BYTES: u64 = 1 << 30;
/// Records at the end of the newest pack whose photos are checked against their hashes
/// when it is opened: more than can be in flight between two `fdatasync`s.
const VERIFIED_TAIL: usize = 256;

/// Where a photo lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Place {
    pack: u32,
    offset: u64,
    len: u64,
}

impl Place {
    /// The record's bytes in its pack, header and padding included.
    fn span(&self) -> u64 {
        (HEADER + self.len).div_ceil(BLOCK) * BLOCK
    }
}

/// A stored photo's hash and where it lies.
type Record = ([u8; 32], Place);

/// The pack being appended to.
#[derive(Debug)]
struct Active {
    number: u32,
    file: File,
    len: u64,
}

/// The packs of one directory.
#[derive(Debug)]
pub struct Packs {
    dir: PathBuf,
    /// `None` when another process holds the packs (read-only).
    active: Mutex<Option<Active>>,
    /// The open lock file; its lock is released when the packs are dropped.
    _lock: File,
    /// Held by the append that runs the `fdatasync` for everyone waiting.
    syncing: Mutex<()>,
    /// Records appended (written, not yet durable) and made durable so far.
    appended: AtomicU64,
    durable: AtomicU64,
    /// `fdatasync` calls so far.
    syncs: AtomicU64,
    /// Where each photo lies: usually one record, two when the same photo arrived twice at
    /// once (both appends passed the look-up before either was indexed); removal takes all.
    index: RwLock<HashMap<[u8; 32], Vec<Place>>>,
}

fn pack_path(dir: &Path, number: u32) -> PathBuf {
    dir.join(format!("{number:08}.pack"))
}

fn header(sha256: &[u8; 32], len: u64) -> [u8; HEADER as usize] {
    let mut header = [0u8; HEADER as usize];
    header[..8].copy_from_slice(MAGIC);
    header[8..40].copy_from_slice(sha256);
    header[40..48].copy_from_slice(&len.to_le_bytes());
    let check = Sha256::digest(&header[..56]);
    header[56..64].copy_from_slice(&check[..8]);
    header
}

/// The photo's hash and length, if `bytes` is a whole, unaltered header.
fn read_header(bytes: &[u8; HEADER as usize]) -> Option<([u8; 32], u64)> {
    if &bytes[..8] != MAGIC || Sha256::digest(&bytes[..56])[..8] != bytes[56..64] {
        return None;
    }
    let sha256 = bytes[8..40].try_into().ok()?;
    Some((sha256, u64::from_le_bytes(bytes[40..48].try_into().ok()?)))
}

/// The records of one pack: their places, and where the last whole record ends, padding
/// included (the length the pack should have: shorter than the file when its tail is torn
/// or zeroed, longer when a crash cut the last record's padding).
fn scan(file: &File, number: u32, len: u64) -> std::io::Result<(Vec<Record>, u64)> {
    let (mut records, mut offset, mut end) = (Vec::new(), 0, 0);
    let mut bytes = [0u8; HEADER as usize];
    while offset + HEADER <= len {
        file.read_exact_at(&mut bytes, offset)?;
        if bytes.iter().all(|byte| *byte == 0) {
            // A removed record's blocks, or zero-filled blocks past a torn append.
            offset += BLOCK;
            continue;
        }
        match read_header(&bytes).filter(|(_, photo)| offset + HEADER + photo <= len) {
            Some((sha256, photo)) => {
                let place = Place { pack: number, offset, len: photo };
                records.push((sha256, place));
                offset += place.span();
                end = offset;
            }
            None => break,
        }
    }
    Ok((records, end))
}

impl Packs {
    /// Opens the packs in `dir` (creating it), rebuilding the index and — when no other
    /// process holds them — cutting a torn tail off the newest pack; otherwise read-only.
    pub fn open(dir: &Path) -> std::io::Result<Packs> {
        std::fs::create_dir_all(dir)?;
        let lock = OpenOptions::new().create(true).truncate(false).write(true).open(dir.join("LOCK"))?;
        let writable = match rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => true,
            Err(error) if error == rustix::io::Errno::WOULDBLOCK => false,
            Err(error) => return Err(error.into()),
        };
        let mut numbers: Vec<u32> = std::fs::read_dir(dir)?.filter_map(|entry| entry.ok()?.file_name().to_str()?.strip_suffix(".pack")?.parse().ok()).collect();
        numbers.sort_unstable();
        let mut index: HashMap<[u8; 32], Vec<Place>> = HashMap::new();
        let newest = numbers.last().copied();
        for &number in &numbers {
            let file = File::open(pack_path(dir, number))?;
            let (mut records, mut end) = scan(&file, number, file.metadata()?.len())?;
            if writable && Some(number) == newest {
                // The first record from the end backwards whose photo does not match its
                // hash, and everything after it, was never acknowledged.
                let from = records.len().saturating_sub(VERIFIED_TAIL);
                if let Some(bad) = (from..records.len()).find(|at| !matches(&file, &records[*at]).unwrap_or(false)) {
                    end = records[bad].1.offset;
                    records.truncate(bad);
                }
            }
            for (sha256, place) in records {
                index.entry(sha256).or_default().push(place);
            }
            if writable && Some(number) == newest && end != file.metadata()?.len() {
                let file = OpenOptions::new().write(true).open(pack_path(dir, number))?;
                file.set_len(end)?;
                file.sync_all()?;
            }
        }
        let active = match writable {
            true => {
                let number = newest.unwrap_or(0);
                let (file, len) = open_for_append(dir, number)?;
                Some(Active { number, file, len })
            }
            false => None,
        };
        Ok(Packs {
            dir: dir.to_owned(),
            active: Mutex::new(active),
            _lock: lock,
            syncing: Mutex::new(()),
            appended: AtomicU64::new(0),
            durable: AtomicU64::new(0),
            syncs: AtomicU64::new(0),
            index: RwLock::new(index),
        })
    }

    /// Whether this process may store and remove photos (no other process holds the packs).
    pub fn writable(&self) -> bool {
        self.active.lock().unwrap_or_else(PoisonError::into_inner).is_some()
    }

    /// Whether the photo with this hash is stored.
    pub fn contains(&self, sha256: &[u8; 32]) -> bool {
        self.index.read().unwrap_or_else(PoisonError::into_inner).contains_key(sha256)
    }

    /// Stores `photo` under its hash; returns once it is durable. A photo already stored is
    /// not stored again.
    pub fn append(&self, sha256: &[u8; 32], photo: &[u8]) -> std::io::Result<()> {
        if self.contains(sha256) {
            return Ok(());
        }
        let (place, mine, file) = {
            let mut active = self.active.lock().unwrap_or_else(PoisonError::into_inner);
            let active = active.as_mut().ok_or_else(held_elsewhere)?;
            if active.len >= PACK_BYTES {
                // Whatever waits for a sync in the old pack is made durable first: a sync of
                // the new pack would not cover it.
                active.file.sync_data()?;
                let (file, len) = open_for_append(&self.dir, active.number + 1)?;
                *active = Active { number: active.number + 1, file, len };
            }
            let place = Place { pack: active.number, offset: active.len, len: photo.len() as u64 };
            let padding = vec![0u8; (place.span() - HEADER - place.len) as usize];
            let written = (|| {
                let mut file = &active.file;
                file.write_all(&header(sha256, place.len))?;
                file.write_all(photo)?;
                file.write_all(&padding)
            })();
            if let Err(error) = written {
                // Cut the partial record off, so the next one starts on its boundary and a
                // later scan does not stop at a torn record in the middle of the pack.
                let _ = active.file.set_len(place.offset);
                return Err(error);
            }
            active.len += place.span();
            (place, self.appended.fetch_add(1, Ordering::AcqRel) + 1, active.file.try_clone()?)
        };
        self.make_durable(mine, &file)?;
        self.index.write().unwrap_or_else(PoisonError::into_inner).entry(*sha256).or_default().push(place);
        Ok(())
    }

    /// Returns once record `mine` is durable: the first caller to get here syncs every
    /// record appended so far; those waiting behind it usually find theirs done.
    fn make_durable(&self, mine: u64, file: &File) -> std::io::Result<()> {
        let _syncing = self.syncing.lock().unwrap_or_else(PoisonError::into_inner);
        if self.durable.load(Ordering::Acquire) >= mine {
            return Ok(());
        }
        let upto = self.appended.load(Ordering::Acquire);
        file.sync_data()?;
        self.syncs.fetch_add(1, Ordering::Relaxed);
        self.durable.fetch_max(upto, Ordering::AcqRel);
        Ok(())
    }

    /// The photo with this hash, or `None`.
    pub fn read(&self, sha256: &[u8; 32]) -> std::io::Result<Option<Vec<u8>>> {
        let Some(place) = self.index.read().unwrap_or_else(PoisonError::into_inner).get(sha256).and_then(|places| places.first().copied()) else { return Ok(None) };
        let mut photo = vec![0u8; place.len as usize];
        File::open(pack_path(&self.dir, place.pack))?.read_exact_at(&mut photo, place.offset + HEADER)?;
        Ok(Some(photo))
    }

    /// Removes a photo: its record's blocks are punched out of the pack (or zeroed), durably.
    /// `false` if it was not stored.
    pub fn remove(&self, sha256: &[u8; 32]) -> std::io::Result<bool> {
        if !self.writable() {
            return Err(held_elsewhere());
        }
        let Some(places) = self.index.write().unwrap_or_else(PoisonError::into_inner).remove(sha256) else { return Ok(false) };
        for place in places {
            let file = OpenOptions::new().write(true).open(pack_path(&self.dir, place.pack))?;
            let punched = rustix::fs::fallocate(&file, rustix::fs::FallocateFlags::PUNCH_HOLE | rustix::fs::FallocateFlags::KEEP_SIZE, place.offset, place.span());
            if punched.is_err() {
                file.write_all_at(&vec![0u8; place.span() as usize], place.offset)?;
            }
            file.sync_data()?;
        }
        Ok(true)
    }

    /// How many photos are stored.
    pub fn len(&self) -> usize {
        self.index.read().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether no photo is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `fdatasync` calls made so far (each covers every record appended before it).
    pub fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }
}

/// Why a read-only opening cannot store or remove.
fn held_elsewhere() -> std::io::Error {
    std::io::Error::new(ErrorKind::ResourceBusy, "another lianxin process (the running server) holds the photo packs")
}

/// Whether the photo of `record` matches its hash.
fn matches(file: &File, (sha256, place): &Record) -> std::io::Result<bool> {
    let mut photo = vec![0u8; place.len as usize];
    file.read_exact_at(&mut photo, place.offset + HEADER)?;
    Ok(Sha256::digest(&photo)[..] == sha256[..])
}

/// Pack `number` opened for appending (created, and its directory entry made durable, when
/// new), and its length.
fn open_for_append(dir: &Path, number: u32) -> std::io::Result<(File, u64)> {
    let path = pack_path(dir, number);
    let created = match std::fs::metadata(&path) {
        Ok(_) => false,
        Err(error) if error.kind() == ErrorKind::NotFound => true,
        Err(error) => return Err(error),
    };
    let file = OpenOptions::new().create(true).append(true).open(&path)?;
    if created {
        file.sync_all()?;
        File::open(dir)?.sync_all()?;
    }
    let len = file.metadata()?.len();
    Ok((file, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo(seed: u8, len: usize) -> (Vec<u8>, [u8; 32]) {
        let bytes: Vec<u8> = (0..len).map(|at| (at as u8).wrapping_mul(31).wrapping_add(seed)).collect();
        let sha256 = Sha256::digest(&bytes).into();
        (bytes, sha256)
    }

    /// Appends `photos` at once while a sync is under way, so every append has written its
    /// record before any is made durable; returns when all are.
    fn append_behind_a_sync(packs: &Packs, photos: &[(Vec<u8>, [u8; 32])]) {
        let before = packs.appended.load(Ordering::Acquire);
        std::thread::scope(|scope| {
            let running = packs.syncing.lock().unwrap();
            let appends: Vec<_> = photos.iter().map(|(bytes, sha256)| scope.spawn(|| packs.append(sha256, bytes))).collect();
            while packs.appended.load(Ordering::Acquire) < before + photos.len() as u64 {
                std::thread::yield_now();
            }
            drop(running);
            for append in appends {
                append.join().unwrap().unwrap();
            }
        });
    }

    #[test]
    fn photos_are_read_back_after_reopening_and_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let photos: Vec<_> = [(1, 10), (2, 5000), (3, 200_000)].iter().map(|(seed, len)| photo(*seed, *len)).collect();
        {
            let packs = Packs::open(dir.path()).unwrap();
            for (bytes, sha256) in &photos {
                packs.append(sha256, bytes).unwrap();
            }
            packs.append(&photos[0].1, &photos[0].0).unwrap();
            assert_eq!(packs.syncs(), 3, "the repeat was found stored");
        }
        let packs = Packs::open(dir.path()).unwrap();
        for (bytes, sha256) in &photos {
            assert_eq!(packs.read(sha256).unwrap().as_ref(), Some(bytes));
        }
        assert_eq!(packs.read(&[7; 32]).unwrap(), None);
        let len = std::fs::metadata(pack_path(dir.path(), 0)).unwrap().len();
        assert_eq!(len % BLOCK, 0, "records end on block boundaries");
    }

    #[test]
    fn photos_appended_while_a_sync_runs_are_made_durable_by_one_more() {
        let dir = tempfile::tempdir().unwrap();
        let packs = Packs::open(dir.path()).unwrap();
        let photos: Vec<_> = (0..8).map(|seed| photo(seed, 150_000)).collect();
        // A sync under way: every append writes its record, then waits behind it.
        append_behind_a_sync(&packs, &photos);
        assert_eq!(packs.syncs(), 1, "the first to sync covered all eight");
        drop(packs);
        let packs = Packs::open(dir.path()).unwrap();
        for (bytes, sha256) in &photos {
            assert_eq!(packs.read(sha256).unwrap().as_ref(), Some(bytes), "every photo whole after reopening");
        }
    }

    #[test]
    fn a_torn_or_unwritten_tail_is_cut_off_and_appending_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let (first, second) = (photo(1, 9000), photo(2, 9000));
        let whole = {
            let packs = Packs::open(dir.path()).unwrap();
            packs.append(&first.1, &first.0).unwrap();
            packs.append(&second.1, &second.0).unwrap();
            std::fs::metadata(pack_path(dir.path(), 0)).unwrap().len()
        };
        // A crash mid-append: a header whose photo never fully arrived.
        let torn = photo(3, 50_000);
        let mut file = OpenOptions::new().append(true).open(pack_path(dir.path(), 0)).unwrap();
        file.write_all(&header(&torn.1, torn.0.len() as u64)).unwrap();
        file.write_all(&torn.0[..1000]).unwrap();
        let packs = Packs::open(dir.path()).unwrap();
        assert_eq!(std::fs::metadata(pack_path(dir.path(), 0)).unwrap().len(), whole, "cut back to the last whole record");
        assert!(!packs.contains(&torn.1));
        // A crash after the size grew but before the data reached the disk: zeros.
        packs.append(&torn.1, &torn.0).unwrap();
        drop(packs);
        let file = OpenOptions::new().write(true).open(pack_path(dir.path(), 0)).unwrap();
        file.write_all_at(&vec![0u8; 50_000], whole + HEADER).unwrap();
        let packs = Packs::open(dir.path()).unwrap();
        assert!(!packs.contains(&torn.1), "a photo that does not match its hash is dropped");
        assert_eq!(std::fs::metadata(pack_path(dir.path(), 0)).unwrap().len(), whole);
        assert_eq!(packs.read(&second.1).unwrap(), Some(second.0.clone()));
        let next = photo(4, 3000);
        packs.append(&next.1, &next.0).unwrap();
        drop(packs);
        let packs = Packs::open(dir.path()).unwrap();
        assert_eq!(packs.read(&next.1).unwrap(), Some(next.0));
        assert_eq!(packs.read(&first.1).unwrap(), Some(first.0));
    }

    #[test]
    fn a_photo_that_arrived_twice_at_once_is_removed_entirely() {
        let dir = tempfile::tempdir().unwrap();
        let twice = photo(5, 30_000);
        let packs = Packs::open(dir.path()).unwrap();
        // Both appends pass the look-up while neither is durable (a sync under way).
        append_behind_a_sync(&packs, &[twice.clone(), twice.clone()]);
        assert_eq!(packs.len(), 1, "one photo");
        drop(packs);
        let packs = Packs::open(dir.path()).unwrap();
        assert!(packs.remove(&twice.1).unwrap());
        let pack = std::fs::read(pack_path(dir.path(), 0)).unwrap();
        assert!(!pack.windows(1000).any(|window| window == &twice.0[..1000]), "neither copy is left on the disk");
        drop(packs);
        assert!(!Packs::open(dir.path()).unwrap().contains(&twice.1));
    }

    #[test]
    fn a_second_opening_reads_but_neither_writes_nor_repairs() {
        let dir = tempfile::tempdir().unwrap();
        let (kept, other) = (photo(1, 9000), photo(2, 9000));
        let server = Packs::open(dir.path()).unwrap();
        server.append(&kept.1, &kept.0).unwrap();
        // A record the server is in the middle of writing.
        let mut file = OpenOptions::new().append(true).open(pack_path(dir.path(), 0)).unwrap();
        file.write_all(&header(&other.1, other.0.len() as u64)).unwrap();
        let len = std::fs::metadata(pack_path(dir.path(), 0)).unwrap().len();

        let operator = Packs::open(dir.path()).unwrap();
        assert!(server.writable() && !operator.writable());
        assert_eq!(operator.read(&kept.1).unwrap(), Some(kept.0.clone()), "it reads what is stored");
        assert_eq!(std::fs::metadata(pack_path(dir.path(), 0)).unwrap().len(), len, "it leaves the half-written record alone");
        assert_eq!(operator.append(&other.1, &other.0).unwrap_err().kind(), ErrorKind::ResourceBusy);
        assert_eq!(operator.remove(&kept.1).unwrap_err().kind(), ErrorKind::ResourceBusy);
        assert!(server.contains(&kept.1));
        drop((server, operator));
        assert!(Packs::open(dir.path()).unwrap().writable(), "the lock goes with the process that held it");
    }

    #[test]
    fn a_removed_photo_is_gone_from_the_disk_and_the_others_stay() {
        let dir = tempfile::tempdir().unwrap();
        let photos: Vec<_> = (0..3).map(|seed| photo(seed, 20_000)).collect();
        let packs = Packs::open(dir.path()).unwrap();
        for (bytes, sha256) in &photos {
            packs.append(sha256, bytes).unwrap();
        }
        let place = packs.index.read().unwrap()[&photos[1].1][0];
        assert!(packs.remove(&photos[1].1).unwrap());
        assert!(!packs.remove(&photos[1].1).unwrap(), "removing twice finds nothing");
        assert_eq!(packs.read(&photos[1].1).unwrap(), None);
        let pack = std::fs::read(pack_path(dir.path(), 0)).unwrap();
        assert!(pack[place.offset as usize..(place.offset + place.span()) as usize].iter().all(|byte| *byte == 0), "its bytes are gone");
        drop(packs);
        let packs = Packs::open(dir.path()).unwrap();
        assert!(!packs.contains(&photos[1].1));
        assert_eq!(packs.read(&photos[0].1).unwrap().as_ref(), Some(&photos[0].0));
        assert_eq!(packs.read(&photos[2].1).unwrap().as_ref(), Some(&photos[2].0), "the scan steps over the hole");
    }
}
