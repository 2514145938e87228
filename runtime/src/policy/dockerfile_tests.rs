use super::*;

/// The references `bases` reads, or its error.
fn refs(text: &str, args: &[(&str, &str)]) -> Result<Vec<String>, String> {
    let args: Vec<(String, String)> = args.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
    bases(text, &args).map(|b| b.into_iter().map(|b| b.reference).collect())
}

/// Asserts `bases` refuses `text` with an error that contains `needle`.
#[track_caller]
fn refused(text: &str, needle: &str) {
    match refs(text, &[]) {
        Ok(r) => panic!("{text:?} was read as {r:?}"),
        Err(e) => assert!(e.contains(needle), "{text:?}: {e:?} lacks {needle:?}"),
    }
}

#[test]
fn bases_with_args_stages_and_copies() {
    let text = "# escape=\\\n# a comment\nARG BASE=tug-test/busybox\nARG TAG\nFROM ${BASE}:${TAG:-latest} AS build\n\
                RUN echo \\\n  hi\nFROM build\nCOPY --from=build /a /b\nCOPY --from=127.0.0.1:5000/x:1 /c /d\n\
                FROM --platform=linux/amd64 scratch\n";
    let b = bases(text, &[]).unwrap();
    let refs: Vec<&str> = b.iter().map(|b| b.reference.as_str()).collect();
    assert_eq!(refs, ["tug-test/busybox:latest", "127.0.0.1:5000/x:1"]);
    let b = bases(text, &[("TAG".into(), "2".into())]).unwrap();
    assert_eq!(b[0].reference, "tug-test/busybox:2");
    assert!(bases("FROM $(evil)\n", &[]).is_err());
    assert!(bases("FROM ${A/b/c}\n", &[]).is_err());
    assert!(bases("FROM x\nCOPY --from=$Y /a /b\n", &[]).is_err());
    assert_eq!(instructions("RUN a \\\n# c\n b\n").unwrap()[0].rest, "a  b");
}

/// Dockerfiles as people write them are read, none refused.
#[test]
fn normal_dockerfiles_are_accepted() {
    let cases: &[(&str, &[&str])] = &[
        (
            "# syntax=docker/dockerfile:1\nARG GO=1.21\nARG BASE=alpine:3.18\n\
             FROM golang:${GO} AS build\nWORKDIR /src\nENV CGO_ENABLED=0 GOOS=linux\n\
             COPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\nRUN go build -o /out/app ./cmd/app\n\
             \n# the runtime image\nFROM ${BASE}\nRUN apk add --no-cache ca-certificates \\\n\
             \x20   # a comment among continuation lines\n    tzdata\n\
             COPY --from=build --chown=1000:1000 /out/app /usr/local/bin/app\nUSER 1000\n\
             EXPOSE 8080/tcp\nHEALTHCHECK --interval=30s --timeout=3s CMD [\"/usr/local/bin/app\", \"-health\"]\n\
             ENTRYPOINT [\"/usr/local/bin/app\"]\nCMD [\"serve\"]\n",
            &["golang:1.21", "alpine:3.18"],
        ),
        (
            "# escape=`\r\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\r\nRUN echo a `\r\n    b\r\n\
             WORKDIR C:\\app\r\nCOPY . C:\\app\r\n",
            &["mcr.microsoft.com/windows/servercore:ltsc2022"],
        ),
        (
            "from node:20 as deps\nworkdir /app\ncopy package*.json ./\nrun npm ci\n\
             from node:20-slim\nenv NODE_ENV production\nworkdir /app\ncopy --from=deps /app/node_modules ./node_modules\n\
             copy --chown=node:node . .\nvolume [\"/data\"]\nlabel org.opencontainers.image.title=\"my app\" version=1\n\
             onbuild copy . /app/src\nonbuild run npm run build\nstopsignal SIGTERM\nshell [\"/bin/bash\", \"-c\"]\n\
             maintainer someone@example.com\ncmd node server.js\n",
            &["node:20", "node:20-slim"],
        ),
        (
            "ARG REGISTRY=registry.example.com:5000\nARG IMAGE\nFROM ${REGISTRY}/${IMAGE:-base}:${TAG:-1.0} AS a\n\
             FROM --platform=$BUILDPLATFORM ubuntu:22.04\nARG DEBIAN_FRONTEND=noninteractive\n\
             RUN apt-get update && apt-get install -y curl \\\n && rm -rf /var/lib/apt/lists/*\n\
             COPY --from=a / /a\nCOPY --from=0 / /b\nADD app.tar.gz /opt/\nADD [\"a b.txt\", \"/c/\"]\n\
             WORKDIR app\nWORKDIR ..\nWORKDIR $HOME/src\nENV PATH=$PATH:/opt/bin\nHEALTHCHECK NONE\n\
             RUN [\"sh\", \"-c\", \"echo $HOME\"]\n",
            &["registry.example.com:5000/base:1.0", "ubuntu:22.04"],
        ),
        (
            "\u{feff}FROM busybox\n\n\n   RUN    true   \n\t# indented comment\nENTRYPOINT echo hi\n",
            &["busybox"],
        ),
        ("FROM busybox", &["busybox"]),
        ("FROM busybox\r\n", &["busybox"]),
        ("FROM busybox:latest \\\n", &["busybox:latest"]),
        ("FROM busybox \\\n  AS x\nRUN true\n", &["busybox"]),
    ];
    for (text, want) in cases {
        assert_eq!(
            refs(text, &[]).unwrap_or_else(|e| panic!("{text:?}: {e}")),
            *want,
            "{text:?}"
        );
    }
    assert_eq!(
        refs("ARG IMAGE\nFROM ${IMAGE:-a}\n", &[("IMAGE", "b")]).unwrap(),
        ["b"]
    );
}

/// Finding 1: the directive regexp's `\s` takes characters tug does not separate on; they are refused.
#[test]
fn directive_spaces_other_than_space_and_tab_are_refused() {
    refused(
        "#\u{c}escape=`\nFROM ok\nRUN echo `\nFROM rtb-secret/app:1\n",
        "line 1: character U+000C (form feed)",
    );
    refused("#\u{b}escape=`\nFROM ok\n", "U+000B (vertical tab)");
    refused("# escape=`\r\r\nFROM ok\n", "U+000D (carriage return");
    refused("# escape=`\u{a0}\nFROM ok\n", "U+00A0");
    // Space and tab, as the regexp reads them.
    assert_eq!(
        refs("#\t escape \t=\t ` \t\nFROM ok\nRUN echo `\nFROM evil\n", &[]).unwrap(),
        ["ok"]
    );
    assert_eq!(
        refs("# escape=`\r\nFROM ok\r\nRUN echo `\r\nFROM evil\r\n", &[]).unwrap(),
        ["ok"]
    );
}

/// Finding 2: only `escape` and `syntax` are directives; any other key ends them, and a directive
/// given twice is refused.
#[test]
fn directives_end_at_other_keys_and_do_not_repeat() {
    assert_eq!(
        refs("# foo=bar\n# escape=`\nFROM ok\nRUN echo `\nFROM evil\n", &[]).unwrap(),
        ["ok", "evil"]
    );
    assert_eq!(
        refs("# syntax=x\n# ESCAPE=`\nFROM ok\nRUN echo `\nFROM evil\n", &[]).unwrap(),
        ["ok"]
    );
    // An empty line, a comment or an instruction ends them.
    for head in ["\n", "# c\n", "# 1a=b\n", "# a b=c\n", "#escape\n"] {
        let text = format!("{head}# escape=`\nFROM ok\nRUN echo `\nFROM evil\n");
        assert_eq!(refs(&text, &[]).unwrap(), ["ok", "evil"], "{text:?}");
    }
    refused(
        "# escape=\\\n# escape=`\nFROM ok\n",
        "line 2: only one escape parser directive",
    );
    refused(
        "# syntax=a\n# Syntax=b\nFROM ok\n",
        "line 2: only one syntax parser directive",
    );
    refused("# escape=x\nFROM ok\n", "line 1: invalid escape token");
    // A value of spaces is the last of them (the regexp's `(.+?)\s*$`).
    refused("# escape=  \nFROM ok\n", "invalid escape token");
    assert!(refs("# syntax=  \n# escape=`\nFROM ok\n", &[]).is_ok());
}

/// Finding 3: flags are split where the builder splits them; what would split them otherwise is refused.
#[test]
fn flags_split_as_the_builder_splits_them() {
    refused(
        "FROM ok\nCOPY --chown=0\u{b}--from=rtb-secret/app:1 /secret.txt /x\n",
        "line 2: character U+000B",
    );
    // The bytes 0x85 and 0xA0 of a UTF-8 character split a flag for the builder.
    refused("FROM ok\nCOPY --chown=\u{c5}--from=evil /a /b\n", "not ASCII");
    refused("FROM ok\nCOPY --chown=\u{e0}--from=evil /a /b\n", "not ASCII");
    refused("FROM ok\nCOPY --fr\\om=evil /a /b\n", "quoted, escaped");
    // A quoted word is no flag to the builder: a source.
    assert_eq!(
        refs("FROM ok\nCOPY \"--from\"=evil /a /b\n", &[]).unwrap(),
        ["ok"]
    );
    refused("FROM ok\nCOPY --from=\"evil\" /a /b\n", "quoted, escaped");
    assert_eq!(
        refs("FROM ok\nCOPY \t--chown=0\t --from=img:1\t/a /b\n", &[]).unwrap(),
        ["ok", "img:1"]
    );
    // A lone `--` ends the flags: what follows is a source.
    assert_eq!(refs("FROM ok\nCOPY -- --from=evil /a /b\n", &[]).unwrap(), ["ok"]);
    // Flags the classic builder rejects.
    refused(
        "FROM ok\nCOPY --FROM=evil /a /b\n",
        "does not take the flag --FROM=evil",
    );
    refused("FROM ok\nCOPY --from /a /b\n", "has no value");
    refused("FROM ok\nCOPY --from=a --from=b /a /b\n", "given twice");
    refused("FROM ok\nCOPY --chmod=644 /a /b\n", "does not take the flag");
    refused("FROM ok\nADD --from=evil /a /b\n", "does not take the flag");
    refused(
        "FROM ok\nRUN --mount=type=cache,target=/x true\n",
        "does not take the flag",
    );
    refused("FROM --from=evil ok\n", "does not take the flag");
    assert_eq!(refs("FROM ok\nCOPY --from= /a /b\n", &[]).unwrap(), ["ok"]);
}

/// Finding 4: the image of a `FROM` is the first word after the flags, and a FROM has one or three.
#[test]
fn from_has_one_image_word() {
    refused(
        "FROM tug-test/busybox AS as\nFROM --platform=linux/amd64\u{b}rtb-secret/app:1 AS x\n",
        "line 2: character U+000B",
    );
    assert_eq!(
        refs(
            "FROM ok AS as\nFROM --platform=linux/amd64\trtb-secret/app:1 AS x\n",
            &[]
        )
        .unwrap(),
        ["ok", "rtb-secret/app:1"]
    );
    refused("FROM ok img\n", "one or three arguments");
    refused("FROM ok AS a b\n", "one or three arguments");
    refused("FROM --platform=linux/amd64\n", "one or three arguments");
    refused("FROM ok BY a\n", "one or three arguments");
    refused("FROM ok AS 1a\n", "invalid name for build stage");
    refused("FROM ok AS a/b\n", "invalid name for build stage");
    refused("FROM ok AS a\u{17f}\n", "invalid name for build stage");
    refused("FROM ok AS \u{212a}\n", "invalid name for build stage");
    refused("FROM ok A\u{17f} x\n", "one or three arguments");
    refused("FROM \u{e9}\n", "not an image reference");
    refused("FROM ok AS a\nFROM ok AS A\n", "stage name already used");
    assert_eq!(refs("FROM ok aS A-b_c.d\nFROM A-B_C.D\n", &[]).unwrap(), ["ok"]);
}

/// Finding 5: a `FROM` names a stage only by name; a `COPY --from` also by index, as `ParseInt` reads it.
#[test]
fn stage_names_and_indexes() {
    assert_eq!(refs("FROM ok\nFROM 0\n", &[]).unwrap(), ["ok", "0"]);
    assert_eq!(
        refs("FROM ok AS Build\nFROM BUILD\nCOPY --from=bUiLd / /\n", &[]).unwrap(),
        ["ok"]
    );
    for index in ["0", "+0", "-0", "00", "+000"] {
        let text = format!("FROM ok\nFROM ok\nCOPY --from={index} /a /b\n");
        assert_eq!(refs(&text, &[]).unwrap(), ["ok", "ok"], "{index}");
    }
    refused("FROM ok\nCOPY --from=0 /a /b\n", "names no complete build stage");
    refused(
        "FROM ok\nFROM ok\nCOPY --from=1 /a /b\n",
        "names no complete build stage",
    );
    refused(
        "FROM ok\nFROM ok\nCOPY --from=-1 /a /b\n",
        "names no complete build stage",
    );
    // Too big for an int64: an image name.
    assert_eq!(
        refs("FROM ok\nCOPY --from=99999999999999999999 /a /b\n", &[]).unwrap(),
        ["ok", "99999999999999999999"]
    );
    assert_eq!(
        refs("FROM ok\nCOPY --from=0x0 /a /b\n", &[]).unwrap(),
        ["ok", "0x0"]
    );
    // The stage being built is not a stage yet.
    assert_eq!(
        refs("FROM ok AS abc\nCOPY --from=abc /a /b\n", &[]).unwrap(),
        ["ok", "abc"]
    );
    assert_eq!(
        refs("FROM ok AS abc\nFROM abc\nCOPY --from=0 /a /b\n", &[]).unwrap(),
        ["ok"]
    );
    // A stage may be called scratch; `scratch` is only the lower-case word.
    assert_eq!(refs("FROM ok AS scratch\nFROM scratch\n", &[]).unwrap(), ["ok"]);
    assert_eq!(refs("FROM scratch\n", &[]).unwrap(), Vec::<String>::new());
    assert_eq!(refs("FROM SCRATCH\n", &[]).unwrap(), ["SCRATCH"]);
    // A stage named by a variable.
    assert_eq!(
        refs("ARG S=Build\nFROM ok AS build\nFROM $S\n", &[]).unwrap(),
        ["ok"]
    );
}

/// Finding 6: a variable name that runs into a character that is not ASCII is refused.
#[test]
fn variable_names_are_ascii() {
    refused(
        "ARG A=127.0.0.1:5000/x\nARG A\u{e9}=127.0.0.1:5002/anything:1\nFROM $A\u{e9}\n",
        "line 3: FROM $A\u{e9} cannot be read: a variable name runs into the character U+00E9",
    );
    refused("ARG A=x\nFROM ${A\u{e9}}\n", "U+00E9");
    refused("ARG A=x\nFROM $\u{e9}\n", "U+00E9");
    refused("ARG A=x\nFROM $1\u{663}\n", "U+0663");
    // Text that is not ASCII elsewhere is read.
    assert!(refs("FROM ok\nLABEL d\u{e9}j\u{e0}=vu\nRUN echo \u{e9}t\u{e9}\n", &[]).is_ok());
}

/// Finding 7: every error of the builder's parser (which makes the daemon keep the context) is refused.
#[test]
fn parse_errors_are_refused() {
    let long = "x".repeat(parse::MAX_LINE - 8);
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "the Dockerfile is empty"),
        ("# only a comment\n".into(), "has no instructions"),
        ("\n\n".into(), "has no instructions"),
        ("# escape=`\n".into(), "has no instructions"),
        (
            "FROM ok\nENV onlyname\n".into(),
            "line 2: ENV must have two arguments",
        ),
        (
            "FROM ok\nENV a=b c\n".into(),
            "line 2: Syntax error - can't find = in c",
        ),
        (
            "FROM ok\nLABEL a=b c\n".into(),
            "line 2: Syntax error - can't find = in c",
        ),
        (
            "FROM ok\nLABEL onlyname\n".into(),
            "LABEL must have two arguments",
        ),
        (
            "FROM ok\nONBUILD ENV x\n".into(),
            "line 2: ENV must have two arguments",
        ),
        (
            "FROM ok\nONBUILD ONBUILD ONBUILD LABEL x\n".into(),
            "LABEL must have two",
        ),
        (
            "FROM ok\nRUN [1]\n".into(),
            "line 2: when using JSON array syntax",
        ),
        ("FROM ok\nCMD [\"a\", null]\n".into(), "JSON array syntax"),
        ("FROM ok\nENTRYPOINT [\"a\", {}]\n".into(), "JSON array syntax"),
        ("FROM ok\nSHELL [[\"a\"]]\n".into(), "JSON array syntax"),
        ("FROM ok\nVOLUME [true]\n".into(), "JSON array syntax"),
        ("FROM ok\nCOPY [1, \"/x\"]\n".into(), "JSON array syntax"),
        ("FROM ok\nADD [\"a\", 2]\n".into(), "JSON array syntax"),
        ("FROM ok\nHEALTHCHECK CMD [1]\n".into(), "JSON array syntax"),
        (
            "FROM ok\nHEALTHCHECK --interval=5s CMD\t[false]\n".into(),
            "JSON array syntax",
        ),
        ("FROM ok\nONBUILD RUN [1]\n".into(), "JSON array syntax"),
        // The type and command of a HEALTHCHECK split at a byte 0xA0 inside a character.
        ("FROM ok\nHEALTHCHECK CMD\u{e0}[1]\n".into(), "JSON array syntax"),
        ("FROM ok\nRUN [\"a\"] [1]\n".into(), ""),
        (
            format!("FROM ok\nLABEL a=x{long}\n"),
            "line 2: longer than 65535 bytes",
        ),
        (
            format!("FROM ok\r\nLABEL a={long}\r\n"),
            "line 2: longer than 65535 bytes",
        ),
        (
            format!("FROM ok\nLABEL a=x{long}"),
            "line 2: longer than 65535 bytes",
        ),
        (
            "# escape=\\\n# escape=\\\nFROM ok\n".into(),
            "only one escape parser directive",
        ),
    ];
    for (text, needle) in &cases {
        if needle.is_empty() {
            continue;
        }
        refused(text, needle);
    }
    // `RUN ["a"] [1]`: only the first JSON value counts, an array of strings.
    assert!(refs("FROM ok\nRUN [\"a\"] [1]\n", &[]).is_ok());
    // Lines of the builder's limit are read.
    assert!(refs(&format!("FROM ok\nLABEL a={long}\n"), &[]).is_ok());
    assert!(refs(&format!("FROM ok\r\nLABEL a={}\r\n", &long[1..]), &[]).is_ok());
    // What is not JSON to the builder is text, no error.
    for args in [
        "[ -d / ] && echo ok",
        "[\"a\",]",
        "[01]",
        "[\"\ta\"]",
        "[\"\\x\"]",
        "[tru]",
        "[\"a\"",
        "[",
    ] {
        let text = format!("FROM ok\nRUN {args}\n");
        assert!(refs(&text, &[]).is_ok(), "{text:?}");
    }
    // Errors of the instructions, refused as well (the daemon closes the context on those).
    for (text, needle) in [
        ("RUN true\nFROM ok\n", "the first instruction must be FROM"),
        ("ARG A\n", "has no FROM"),
        ("FROM ok\nFROOM x\n", "unknown instruction froom"),
        ("FROM ok\n\\", "unknown instruction"),
        ("FROM ok\nCOPY /a\n", "at least two arguments"),
        ("FROM ok\nADD [\"/a\"]\n", "at least two arguments"),
        ("FROM ok\nWORKDIR\n", "WORKDIR requires exactly one argument"),
        ("FROM ok\nARG =x\n", "ARG names can not be blank"),
        ("FROM ok\nENV\n", "ENV requires at least one argument"),
        ("FROM ok\nONBUILD\n", "ONBUILD requires at least one argument"),
        ("FROM ok\nONBUILD ONBUILD RUN x\n", "Chaining ONBUILD"),
        (
            "FROM ok\nONBUILD FROM x\n",
            "FROM isn't allowed as an ONBUILD trigger",
        ),
        ("FROM ok\nONBUILD --x=1 RUN x\n", "does not take the flag"),
        ("ARG E\nFROM $E\n", "the base name is blank"),
        ("FROM ${A:?no}\n", "is not allowed to be unset"),
        ("FROM \"ok\n", "unexpected end of statement"),
        ("FROM ${A\n", "missing"),
        ("FROM ${:a}\n", "bad substitution"),
        ("FROM ${a:=b}\n", "unsupported modifier"),
    ] {
        refused(text, needle);
    }
}

/// Finding 8: an `ADD` whose source is, or could be, a URL.
#[test]
fn add_of_a_url_is_refused() {
    for add in [
        "ADD http://127.0.0.1:8080/secret /x",
        "ADD HTTPS://example.com/a /x",
        "ADD ftp://x/y /x",
        "ADD a s3://b /x",
        "ADD [\"http://127.0.0.1/s\", \"/x\"]",
        "ADD [\"\\u0068ttp://127.0.0.1/s\", \"/x\"]",
        "ADD [\"\\ufeffhttp://127.0.0.1/s\", \"/x\"]",
        "ADD h\\ttp://127.0.0.1/s /x",
        "ADD \"http\"://127.0.0.1/s /x",
        "ADD $URL /x",
        "ADD ${URL:-./a} /x",
        "ADD ht$X /x",
        "ADD --chown=0 $HTTP_PROXY /x",
    ] {
        refused(&format!("FROM ok\n{add}\n"), "could fetch a URL");
    }
    // A variable the Dockerfile sets; an ARG does not count (the base image's environment wins).
    refused("FROM ok\nENV U=http://h/x\nADD $U /x\n", "could fetch a URL");
    refused("FROM ok\nARG F=./a.tgz\nADD $F /x\n", "could fetch a URL");
    refused(
        "ARG U=http://h/x\nFROM ok\nARG U\nADD ${U} /x\n",
        "could fetch a URL",
    );
    refused("FROM ok\nONBUILD ADD http://h/x /x\n", "could fetch a URL");
    // The escape character of the Dockerfile.
    refused("# escape=`\nFROM ok\nADD h`ttp://h/x /x\n", "could fetch a URL");
    for add in [
        "ADD app.tar.gz /opt/",
        "ADD ./rootfs-${VERSION}.tar /",
        "ADD [\"a b\", \"/c/\"]",
        "ADD --chown=1:1 conf/ /etc/app/",
        "ENV F=./a.tgz\nADD $F /x",
        "COPY http://h/x /x",
    ] {
        let text = format!("FROM ok\n{add}\n");
        assert!(refs(&text, &[]).is_ok(), "{text:?}");
    }
}

/// Finding 9: `rewrite` splits lines as `instructions` does and never panics.
#[test]
fn rewrite_of_a_trailing_escape() {
    let text = "FROM tug-test/busybox:latest \\\n";
    let b = bases(text, &[]).unwrap();
    let out = rewrite(text, &b, &[(0, "sha256:aa".into())]).unwrap();
    // Still continued at the end, as it was: the escape character goes, not the argument's last one.
    assert_eq!(out, "FROM sha256:aa \\\n");
    let text = "FROM a\nCOPY --from=b /a \\ \\";
    let b = bases(text, &[]).unwrap();
    let out = rewrite(text, &b, &[(1, "sha256:bb".into())]).unwrap();
    assert_eq!(out, "FROM a\nCOPY --from=sha256:bb /a \\ \\");
    assert_eq!(instructions(&out).unwrap()[1].args, "/a \\");
}

#[test]
fn rewritten_by_id_line_for_line() {
    let text = "ARG B=busybox\nFROM \\\n  $B AS x\nCOPY --from=other:1 /a /b\nRUN true\n";
    let b = bases(text, &[]).unwrap();
    let out = rewrite(text, &b, &[(0, "sha256:aa".into()), (1, "sha256:bb".into())]).unwrap();
    assert_eq!(
        out,
        "ARG B=busybox\nFROM sha256:aa AS x\n\nCOPY --from=sha256:bb /a /b\nRUN true\n"
    );
    // CRLF lines stay as they were; the rewritten one is LF.
    let text = "FROM a\r\nRUN x\r\n";
    let out = rewrite(text, &bases(text, &[]).unwrap(), &[(0, "sha256:aa".into())]).unwrap();
    assert_eq!(out, "FROM sha256:aa\nRUN x\r\n");
}

/// A small generator (xorshift), so the odd inputs are the same each run.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

/// The instructions of `text` with the ids of `by_id` in place of the bases they name.
fn substituted(text: &str, b: &[Base], by_id: &[(usize, String)]) -> Vec<(String, Vec<String>, String)> {
    let mut list: Vec<(String, Vec<String>, String)> = instructions(text)
        .unwrap()
        .into_iter()
        .map(|i| (i.keyword, i.flags, i.args))
        .collect();
    for (k, id) in by_id {
        let (keyword, flags, args) = &mut list[b[*k].instruction];
        if keyword == "from" {
            let mut words: Vec<String> = parse::fields(args).map(str::to_owned).collect();
            words[0] = id.clone();
            *args = words.join(" ");
        } else {
            let f = flags.iter_mut().find(|f| f.starts_with("--from=")).unwrap();
            *f = format!("--from={id}");
        }
    }
    list
}

/// Finding 9: over many odd inputs, `bases` and `rewrite` do not panic, and the rewritten text reads as
/// the same instructions with the ids in place.
#[test]
fn rewrite_keeps_the_instructions_over_odd_inputs() {
    let parts = [
        "FROM tug-test/busybox:latest \\",
        "FROM a AS b",
        "FROM b",
        "FROM \\",
        "  img:1 \\",
        "  AS c",
        "FROM $X",
        "ARG X=img:2",
        "COPY --from=x:1 /a /b",
        "COPY --from=b /a \\",
        "  /b",
        "COPY --from=0 /a /b",
        "copy --chown=1 --from=y:2 [\"/a\", \"/b\"]",
        "RUN echo \\",
        "RUN echo `",
        "  continued",
        "# comment",
        "  # indented comment",
        "# escape=`",
        "# syntax=x",
        "",
        "   ",
        "\t",
        "\\",
        "`",
        "\u{feff}FROM z",
        "\r",
        "CMD [\"a\"] x",
        "onbuild run x \\",
        "LABEL a=b \\\\",
        "RUN a \\ \\",
    ];
    let mut gen = Gen(0x9e37_79b9_7f4a_7c15);
    let (mut read, mut rewritten) = (0, 0);
    for _ in 0..10_000 {
        let n = 1 + gen.next() % 8;
        let sep = if gen.next() % 3 == 0 { "\r\n" } else { "\n" };
        let mut lines: Vec<&str> = (0..n).map(|_| gen.pick(&parts)).collect();
        if gen.next() % 2 == 0 {
            lines.insert(0, "ARG X=img:2\nFROM x:0 AS b");
        }
        let mut text = lines.join(sep);
        if gen.next() % 2 == 0 {
            text.push_str(sep);
        }
        let Ok(b) = bases(&text, &[]) else {
            let _ = rewrite(&text, &[], &[]);
            continue;
        };
        read += 1;
        let by_id: Vec<(usize, String)> = (0..b.len())
            .filter(|_| gen.next() % 4 != 0)
            .map(|k| (k, format!("sha256:{:064x}", k)))
            .collect();
        let out = rewrite(&text, &b, &by_id).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        rewritten += 1;
        assert_eq!(
            substituted(&out, &b, &[]),
            substituted(&text, &b, &by_id),
            "{text:?} became {out:?}"
        );
        let again = bases(&out, &[]).unwrap();
        assert_eq!(again.len(), b.len(), "{text:?} became {out:?}");
        for (k, id) in &by_id {
            assert_eq!(&again[*k].reference, id, "{text:?} became {out:?}");
        }
    }
    assert!(
        read > 1000 && rewritten == read,
        "{read} read, {rewritten} rewritten"
    );
    // Texts of no instruction, and texts tug refuses, are not rewritten, without a panic.
    for text in ["", "\n", "# c", "\r\n\r\n", "FROM \u{b}x"] {
        assert!(rewrite(text, &[], &[]).is_err(), "{text:?}");
    }
    assert!(rewrite("FROM a\n", &[], &[(0, "sha256:aa".into())]).is_err());
}

/// Finding 10: a `WORKDIR` in `/proc`, as written or as it resolves, in the Dockerfile and its triggers.
#[test]
fn workdir_in_proc_is_refused() {
    for w in [
        "WORKDIR /proc/self/fd/7",
        "WORKDIR /\nWORKDIR proc",
        "WORKDIR proc/self",
        "WORKDIR /app\nWORKDIR ../proc",
        "WORKDIR /app\nWORKDIR a/../../proc/1",
        "WORKDIR //proc",
        "WORKDIR \"/proc\"",
        "WORKDIR /pro\\c",
        "WORKDIR ${X}/proc",
        "WORKDIR ${X}proc",
        "WORKDIR $X/../proc",
        "ENV D=/proc/self\nWORKDIR $D",
        "ENV D=/proc\nENV E=$D/self\nWORKDIR $E",
        "ARG D=/proc\nWORKDIR $D",
        "ONBUILD WORKDIR /proc/self/fd/7",
        "ONBUILD WORKDIR proc",
    ] {
        refused(&format!("FROM ok\n{w}\n"), "is inside /proc");
    }
    refused(
        "ARG D=/x\nFROM ok\nARG D\nWORKDIR $D/../proc\n",
        "is inside /proc",
    );
    assert!(refs("FROM ok\nARG D\nWORKDIR $D\n", &[("D", "/proc")]).is_err());
    for w in [
        "WORKDIR /app\nWORKDIR proc",
        "WORKDIR /procx",
        "WORKDIR $HOME/src",
        "WORKDIR ${GOPATH}/src/app",
        "WORKDIR /app/$X",
        "ENV D=/srv\nWORKDIR $D/proc",
        "ONBUILD WORKDIR /app",
    ] {
        let text = format!("FROM ok\n{w}\n");
        assert!(refs(&text, &[]).is_ok(), "{text:?}");
    }
}

/// The triggers of a base image (`Config.OnBuild`), read as the builder reads each one.
#[test]
fn onbuild_triggers() {
    assert!(onbuild("COPY . /app").is_ok());
    assert!(onbuild("RUN echo a   b \\\\  ").is_ok());
    for (trigger, needle) in [
        ("COPY --from=evil / /", "COPY --from is not allowed"),
        ("# c\nCOPY --from=evil / /", "COPY --from is not allowed"),
        (
            "# escape=`\nCOPY --fr`\nom=evil / /",
            "COPY --from is not allowed",
        ),
        ("COPY \\\n--from=evil / /", "COPY --from is not allowed"),
        ("ONBUILD COPY . /", "ONBUILD in a trigger"),
        ("COPY --fr\\om=evil / /", "quoted, escaped"),
        ("ONBU\u{130}LD COPY --from=evil / /", "not ASCII"),
        ("RUN a\nRUN b", "is not one instruction"),
        ("", "is empty"),
        ("# c", "no instructions"),
        ("FROM x", "not an instruction a trigger can run"),
        ("FOO x", "not an instruction a trigger can run"),
        ("ENV x", "ENV must have two arguments"),
        ("RUN [1]", "JSON array syntax"),
        ("ADD http://127.0.0.1/x /y", "could fetch a URL"),
        ("ADD h`ttp://127.0.0.1/x /y", "could fetch a URL"),
        ("ADD $U /y", "could fetch a URL"),
        ("WORKDIR /proc/self/fd/9", "is inside /proc"),
        ("WORKDIR ../proc", "is inside /proc"),
        ("WORKDIR ${X}proc", "is inside /proc"),
        ("RUN \u{b}x", "U+000B"),
    ] {
        match onbuild(trigger) {
            Ok(()) => panic!("{trigger:?} was accepted"),
            Err(e) => assert!(e.contains(needle), "{trigger:?}: {e:?} lacks {needle:?}"),
        }
    }
}

/// Variables as the builder's shell expands them, and the build's args.
#[test]
fn variables_as_the_builder_expands_them() {
    // The Dockerfile, the build's args, the last reference.
    type Case = (
        &'static str,
        &'static [(&'static str, &'static str)],
        &'static str,
    );
    let cases: &[Case] = &[
        ("ARG A=img\nFROM $A\n", &[], "img"),
        ("ARG A=img\nFROM ${A}:1\n", &[], "img:1"),
        ("ARG A\nFROM ${A:-img}\n", &[], "img"),
        ("ARG A=\nFROM ${A:-img}\n", &[], "img"),
        ("ARG A=x\nFROM img${A:+:1}\n", &[], "img:1"),
        ("ARG A\nFROM img${A:+:1}\n", &[], "img"),
        ("ARG A=x\nFROM ${A?}\n", &[], "x"),
        ("ARG A=a B=${A:-b}\nFROM $B\n", &[], "b"),
        ("ARG A=a\nARG B=${A}/c\nFROM $B\n", &[], "a/c"),
        ("ARG A=a\nARG A\nFROM ${A:-u}\n", &[], "u"),
        ("ARG A\nFROM ${A:-${B:-img}}\n", &[], "img"),
        ("ARG A=\"img:1\"\nFROM $A\n", &[], "img:1"),
        ("ARG A='i'm'g'\nFROM $A\n", &[], "img"),
        ("FROM \"img\"\n", &[], "img"),
        ("FROM i\\mg\n", &[], "img"),
        ("# escape=`\nFROM i`mg\n", &[], "img"),
        ("ARG A=i\nFROM ${A}mg\n", &[("A", "x")], "xmg"),
        ("ARG A=i\nFROM ${A}mg\n", &[("A", "x"), ("A", "y")], "ymg"),
        ("FROM ${X:-img}\n", &[("X", "evil")], "img"),
        ("FROM ${HTTP_PROXY:-img}\n", &[("HTTP_PROXY", "evil/x")], "evil/x"),
        ("FROM ${no_proxy:-img}\n", &[("no_proxy", "evil/x")], "evil/x"),
        ("ARG \"A\"=img\nFROM $A\n", &[], "img"),
    ];
    for (text, args, want) in cases {
        match refs(text, args) {
            Ok(r) if r.last().map(String::as_str) == Some(want) => {}
            Ok(r) => assert_eq!(r.last().map(String::as_str).unwrap_or(""), *want, "{text:?}"),
            Err(e) => panic!("{text:?}: {e}"),
        }
    }
    refused("FROM img$\n", "not an image reference");
    refused("FROM \u{feff}img\n", "U+FEFF (byte-order mark)");
    refused("ARG ${A}=x\nFROM ok\n", "a variable in a name");
    refused("FROM ok\nENV ${A}=x\n", "a variable in a name");
    // Expansion has a bound.
    let mut text = format!("ARG A={}\n", "x".repeat(60_000));
    for n in 0..300 {
        text.push_str(&format!("ARG B{n}={}\n", "$A".repeat(30)));
    }
    text.push_str("FROM ok\n");
    refused(&text, "too much text");
}

/// Deep inputs do not need a deep stack (the gate's 1 MB inputs run on 256 KiB).
#[test]
fn deep_inputs_on_a_small_stack() {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let json = format!("FROM ok\nRUN {}{}\n", "[".repeat(30_000), "]".repeat(30_000));
            assert!(refs(&json, &[]).unwrap_err().contains("nested"));
            let vars = format!("FROM {}img{}\n", "${A:-".repeat(5_000), "}".repeat(5_000));
            assert!(refs(&vars, &[]).unwrap_err().contains("nested"));
            let chain = format!("FROM ok\n{}RUN x\n", "ONBUILD ".repeat(8_000));
            assert!(refs(&chain, &[]).is_err());
            let trigger = format!("{}RUN x", "ONBUILD ".repeat(8_000));
            assert!(onbuild(&trigger).is_err());
            let many = "FROM ok\nRUN x \\\n".repeat(40_000);
            let _ = bases(&many, &[]);
            let _ = rewrite(&many, &[], &[]);
        })
        .unwrap()
        .join()
        .unwrap();
}

/// The reader's own parts against what Go's code does.
#[test]
fn reader_parts() {
    assert_eq!(
        parse::words("a \"b c\" d\\ e 'f\\' g=\"h\"", '\\'),
        ["a", "\"b c\"", "d\\ e", "'f\\'", "g=\"h\""]
    );
    assert_eq!(parse::words("a\\", '\\'), ["a"]);
    assert_eq!(parse::words("\"\"", '\\'), ["\"\""]);
    assert_eq!(
        parse::json("[\"a\", \"\\u00e9\\ud83d\\ude00\\ud800\"] x"),
        Ok(Json::Strings(vec!["a".into(), "é😀\u{fffd}".into()]))
    );
    assert_eq!(parse::json(" [] "), Ok(Json::Strings(vec![])));
    assert!(parse::json("[{\"a\": [1, {}]}, \"b\"]").is_err());
    assert_eq!(parse::json("[\"a\" \"b\"]"), Ok(Json::Not));
    assert!(parse::json("[1e999]").unwrap_err().contains("out of range"));
    assert!(parse::json("[-0.5e+3, \"x\"]").is_err());
    assert_eq!(parse::json("[-]"), Ok(Json::Not));
    assert_eq!(parse::json("[1.]"), Ok(Json::Not));
    let i = &instructions("  ONBUILD   RUN  a \\\n  b  \n").unwrap()[0];
    assert_eq!((i.keyword.as_str(), i.args.as_str()), ("onbuild", "RUN  a   b"));
    assert_eq!(trigger_text(&i.original), "RUN  a   b  ");
}
