//! Reading one input: walking directory trees, and decompressing and splitting files, streams and remote objects into
//! records, with the buffers a worker reuses from file to file.
use super::*;

/// Sends every file under `path` (sorted by name; hidden entries and CloudTrail digest folders skipped).
pub(super) fn walk(path: &Path, send: &dyn Fn(Input) -> bool) -> Result<bool, Problem> {
    let problem = |e: io::Error| Problem {
        input: path.display().to_string(),
        message: e.to_string(),
        records: 0,
    };
    let meta = std::fs::metadata(path).map_err(problem)?;
    if !meta.is_dir() {
        return Ok(send(Input::File(path.to_owned())));
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(problem)?
        .filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            !name.starts_with('.') && name != "CloudTrail-Digest"
        })
        .map(|e| e.path())
        .collect();
    entries.sort();
    for entry in entries {
        match walk(&entry, send) {
            Ok(true) => {}
            Ok(false) => return Ok(false),
            // A sub-entry that vanished or cannot be read: skip it quietly only if it is not a file we were given.
            Err(_) => {}
        }
    }
    Ok(true)
}

/// A worker's buffers, reused from file to file.
#[derive(Default)]
pub(super) struct Buffers {
    /// A compressed (or plain) file read whole.
    pub(super) raw: Vec<u8>,
    /// Decompressed text; its length is how much of it is initialised, not how much holds data.
    pub(super) text: Vec<u8>,
    /// The records of the current document.
    pub(super) spans: Vec<Span>,
}

/// Files up to this size are read whole into a reused buffer; larger ones are streamed.
pub(super) const WHOLE_FILE: u64 = 8 << 20;
/// A remote object is read through a buffer of this size (its body arrives in network-sized pieces).
pub(super) const REMOTE_CHUNK: usize = 256 << 10;
/// Decompressed text is read in chunks of at least this size.
pub(super) const CHUNK: usize = 1 << 20;

/// Reads one input into the worker's tallies. `Err` describes a problem; records read before it still count.
pub(super) fn read_input(
    input: &Input,
    filter: &Filter,
    local: &mut Local,
    bufs: &mut Buffers,
    counters: &Counters,
) -> Result<(), String> {
    match input {
        Input::File(path) => {
            let mut file = File::open(path).map_err(|e| e.to_string())?;
            if file.metadata().is_ok_and(|m| m.len() <= WHOLE_FILE) {
                let mut raw = std::mem::take(&mut bufs.raw);
                raw.clear();
                let result = match file.read_to_end(&mut raw) {
                    Ok(_) => read_stream(&raw[..], filter, local, bufs, counters),
                    Err(e) => Err(read_error(e)),
                };
                bufs.raw = raw;
                result
            } else {
                read_stream(
                    BufReader::with_capacity(CHUNK, file),
                    filter,
                    local,
                    bufs,
                    counters,
                )
            }
        }
        Input::Stdin => read_stream(io::stdin().lock(), filter, local, bufs, counters),
        Input::Remote(remote) => {
            let body = (remote.open)()?;
            read_stream(
                BufReader::with_capacity(REMOTE_CHUNK, body),
                filter,
                local,
                bufs,
                counters,
            )
        }
    }
}

pub(super) fn read_stream<R: BufRead>(
    mut raw: R,
    filter: &Filter,
    local: &mut Local,
    bufs: &mut Buffers,
    counters: &Counters,
) -> Result<(), String> {
    let head = raw.fill_buf().map_err(|e| e.to_string())?;
    if head.starts_with(&[0x1f, 0x8b]) {
        read_lines(MultiGzDecoder::new(raw), filter, local, bufs, counters)
    } else {
        read_lines(raw, filter, local, bufs, counters)
    }
}

pub(super) fn read_error(e: io::Error) -> String {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => "truncated: unexpected end of file".to_owned(),
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => {
            format!("corrupt compressed data: {e}")
        }
        _ => e.to_string(),
    }
}

/// The index of the first newline in `hay` (the standard library's memchr, through `BufRead` on a slice).
pub(super) fn newline(hay: &[u8]) -> Option<usize> {
    let mut rest = hay;
    let n = rest.skip_until(b'\n').unwrap_or(0);
    (n > 0 && hay[n - 1] == b'\n').then(|| n - 1)
}

/// Feeds one JSON document (a line, or a whole file) to the tallies. With a prefilter and CloudTrail's own
/// `{"Records":[...]}` shape, a record that names none of the selected principals (and holds no escape) is only
/// counted; every other record is parsed as usual. Errors are those of [`parse_document`] on the whole document.
pub(super) fn read_document(
    json: &[u8],
    filter: &Filter,
    local: &mut Local,
    spans: &mut Vec<Span>,
) -> serde_json::Result<()> {
    let Some(needles) = filter.needles.as_ref() else {
        return parse_document(json, &mut |r: Record| local.record(filter, &r));
    };
    if !split_records(json, spans) {
        return parse_document(json, &mut |r: Record| local.record(filter, &r));
    }
    let mut hits = needles.find_iter(json).map(|m| m.start()).peekable();
    for span in spans.iter() {
        while hits.next_if(|&h| h < span.start).is_some() {}
        if span.escaped || hits.peek().is_some_and(|&h| h < span.end) {
            match serde_json::from_slice::<Record>(&json[span.start..span.end]) {
                Ok(record) => local.record(filter, &record),
                // Report the error exactly as a parse of the whole document does (records are not delivered again).
                Err(e) => return parse_document(json, &mut |_| {}).and(Err(e)),
            }
        } else {
            local.records += 1;
        }
    }
    Ok(())
}

/// The malformed lines of one input.
#[derive(Default)]
pub(super) struct BadLines {
    /// Lines read so far (the current one included).
    pub(super) line_no: u64,
    pub(super) count: u64,
    pub(super) first: Option<String>,
}

impl BadLines {
    pub(super) fn add(&mut self, why: impl fmt::Display) {
        self.count += 1;
        let line_no = self.line_no;
        self.first
            .get_or_insert_with(|| format!("line {line_no}: {why}"));
    }
}

/// The JSON of a line: a CloudWatch Logs export line is `<timestamp> <json>`.
pub(super) fn json_of(line: &[u8]) -> &[u8] {
    if matches!(line.first(), Some(b'{' | b'[')) {
        return line;
    }
    match line.iter().position(|&b| b == b' ') {
        Some(sp) => line[sp..].trim_ascii_start(),
        None => line,
    }
}

/// Makes room after `filled` in `buf`: moves the unused text `buf[start..filled]` to the front and grows the
/// buffer when little room is left. Returns the new `filled`.
pub(super) fn make_room(buf: &mut Vec<u8>, start: usize, filled: usize) -> usize {
    if start > 0 {
        buf.copy_within(start..filled, 0);
    }
    let filled = filled - start;
    if buf.len() - filled < CHUNK / 4 {
        let grown = (buf.len() * 2).max(filled + CHUNK);
        buf.resize(grown, 0);
    }
    filled
}

/// Reads one input of JSON documents, one per line (JSON lines, CloudWatch Logs exports, or CloudTrail's own
/// one-line files), into the tallies; a first line that is an incomplete document means a pretty-printed file,
/// read whole by [`read_whole`].
pub(super) fn read_lines<R: Read>(
    mut reader: R,
    filter: &Filter,
    local: &mut Local,
    bufs: &mut Buffers,
    counters: &Counters,
) -> Result<(), String> {
    let Buffers {
        text: buf, spans, ..
    } = bufs;
    if buf.len() < CHUNK {
        buf.resize(CHUNK, 0);
    }
    // buf[start..filled] holds text not yet used; buf[start..start + searched] has no newline.
    let (mut start, mut filled, mut searched) = (0usize, 0usize, 0usize);
    let mut eof = false;
    let before = local.records;
    let mut bad = BadLines::default();
    let mut reported = 0u64;
    let mut failure = None;
    loop {
        let end = match newline(&buf[start + searched..filled]) {
            Some(at) => start + searched + at + 1,
            None if eof || failure.is_some() => {
                if start == filled {
                    break;
                }
                filled
            }
            None => {
                searched = filled - start;
                filled = make_room(buf, start, filled);
                start = 0;
                match reader.read(&mut buf[filled..]) {
                    Ok(0) => eof = true,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    // Truncated or corrupt: use what was read (the records before the damage), then report it.
                    Err(e) => failure = Some(read_error(e)),
                }
                continue;
            }
        };
        local.bytes += (end - start) as u64;
        counters
            .bytes
            .fetch_add((end - start) as u64, Ordering::Relaxed);
        bad.line_no += 1;
        let json = json_of(buf[start..end].trim_ascii());
        if json.first().is_some_and(|b| !matches!(b, b'{' | b'[')) {
            bad.add("not JSON");
        } else if !json.is_empty() {
            if let Err(e) = read_document(json, filter, local, spans) {
                if e.is_eof() && bad.line_no == 1 && failure.is_none() && local.records == before {
                    let rest = &buf[end..filled];
                    return read_whole(json, rest, reader, filter, local, counters, before);
                }
                bad.add(e);
            }
        }
        start = end;
        searched = 0;
        if failure.is_some() && start == filled {
            break;
        }
        if local.records - before - reported >= 16_384 {
            counters
                .records
                .fetch_add(local.records - before - reported, Ordering::Relaxed);
            reported = local.records - before;
        }
    }
    counters
        .records
        .fetch_add(local.records - before - reported, Ordering::Relaxed);
    lines_outcome(failure, bad, local.records - before)
}

/// Not one document per line (pretty-printed JSON): `first` and `rest` (what was read after the first line) and
/// the rest of `reader`, parsed whole.
pub(super) fn read_whole<R: Read>(
    first: &[u8],
    rest: &[u8],
    mut reader: R,
    filter: &Filter,
    local: &mut Local,
    counters: &Counters,
    before: u64,
) -> Result<(), String> {
    let mut whole = first.to_vec();
    whole.extend_from_slice(rest);
    let read = reader.read_to_end(&mut whole);
    local.bytes += (whole.len() - first.len()) as u64;
    let parsed = parse_documents(&whole, &mut |r: Record| local.record(filter, &r));
    counters
        .records
        .fetch_add(local.records - before, Ordering::Relaxed);
    read.map_err(read_error)?;
    match parsed {
        Err(e) => Err(format!("not valid JSON: {e}")),
        Ok(()) if local.records == before => Err("no CloudTrail records".to_owned()),
        Ok(()) => Ok(()),
    }
}

/// The problem to report for an input read line by line, if any.
pub(super) fn lines_outcome(
    failure: Option<String>,
    bad: BadLines,
    records: u64,
) -> Result<(), String> {
    if let Some(failure) = failure {
        return Err(match records {
            0 => failure,
            n => format!("{failure} ({n} records before it were used)"),
        });
    }
    let first = bad.first.unwrap_or_default();
    match (bad.count, records) {
        (0, 0) => Err("no CloudTrail records".to_owned()),
        (0, _) => Ok(()),
        (_, 0) => Err(format!("not CloudTrail JSON ({first})")),
        (n, _) => Err(format!("{n} malformed line(s) skipped (first at {first})")),
    }
}
