//! The `.cedarschema` parser: text to the [`syntax`](super::syntax) tree, following Cedar's schema
//! grammar. It checks only what the grammar decides (plus reserved identifiers and repeated
//! annotation keys); names are resolved later by [`resolve`](super::resolve).
//!
//! It is a recursive-descent parser over the shared [`crate::lexer`] tokens, using the policy
//! parser's token cursor. Type nesting is bounded and the stack grows on demand, so no input
//! overflows the stack. The first error is reported, located at the offending token.

use thuja_runtime::name::is_reserved_identifier;

use super::syntax::*;
use crate::diagnostic::Diagnostic;
use crate::lexer::{Token, TokenKind};
use crate::parser::{MAX_NESTING, Parser};
use crate::source::Span;

type PResult<T> = Result<T, Diagnostic>;

/// Parses a whole schema file.
pub fn parse_schema_file(text: &str) -> PResult<SchemaFile> {
    let mut p = SchemaParser {
        p: Parser::new(text),
        last_end: 0,
        depth: 0,
    };
    let mut read = || {
        let mut file = SchemaFile::default();
        while !p.p.at(TokenKind::Eof) {
            file.namespaces.push(p.namespace()?);
        }
        Ok(file)
    };
    let result = read();
    p.p.finish(result)
}

struct SchemaParser<'s> {
    p: Parser<'s>,
    /// End offset of the last consumed token, for node spans.
    last_end: usize,
    depth: usize,
}

impl SchemaParser<'_> {
    // ----- cursor helpers -----

    /// The span from `start` to the end of the last consumed token.
    fn since(&self, start: Span) -> Span {
        Span::new(start.start, self.last_end.max(start.end))
    }

    fn bump(&mut self) -> Token {
        let t = self.p.bump();
        self.last_end = t.span.end;
        t
    }

    fn expect(&mut self, kind: TokenKind) -> PResult<Token> {
        let t = self.p.expect(kind)?;
        self.last_end = t.span.end;
        Ok(t)
    }

    fn eat(&mut self, kind: TokenKind) -> Option<Token> {
        let t = self.p.eat(kind)?;
        self.last_end = t.span.end;
        Some(t)
    }

    fn eat_word(&mut self, word: &str) -> Option<Token> {
        let t = self.p.eat_word(word)?;
        self.last_end = t.span.end;
        Some(t)
    }

    fn at(&self, kind: TokenKind) -> bool {
        self.p.at(kind)
    }

    fn at_word(&self, word: &str) -> bool {
        self.p.at_word(word)
    }

    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.depth >= MAX_NESTING {
            return Err(Diagnostic::new(
                format!("type is nested too deeply (more than {MAX_NESTING} levels)"),
                self.p.peek().span,
            ));
        }
        self.depth += 1;
        let result = stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || f(self));
        self.depth -= 1;
        result
    }

    // ----- names -----

    /// Any identifier, reserved or not (annotation keys).
    fn any_ident(&mut self) -> PResult<Name> {
        let t = self.expect(TokenKind::Ident)?;
        Ok(Name {
            value: self.p.text_of(t).to_string(),
            span: t.span,
        })
    }

    /// An identifier that is not one of Cedar's reserved words.
    fn ident(&mut self) -> PResult<Name> {
        let name = self.any_ident()?;
        if is_reserved_identifier(&name.value) {
            return Err(Diagnostic::new(
                format!(
                    "this identifier is reserved and cannot be used: {}",
                    name.value
                ),
                name.span,
            ));
        }
        Ok(name)
    }

    /// A string literal's unescaped value.
    fn string(&mut self) -> PResult<Name> {
        let t = self.expect(TokenKind::Str)?;
        Ok(Name {
            value: self.p.string_value(t)?,
            span: t.span,
        })
    }

    /// An identifier or a string literal.
    fn name(&mut self, what: &str) -> PResult<Name> {
        match self.p.peek().kind {
            TokenKind::Str => self.string(),
            TokenKind::Ident => self.ident(),
            _ => Err(self.p.unexpected(what)),
        }
    }

    /// `A::B::C`, stopping before a `::` not followed by an identifier.
    fn path(&mut self) -> PResult<Path> {
        let first = self.ident()?;
        let start = first.span;
        let mut parts = vec![first];
        while self.at(TokenKind::ColonColon) && self.p.peek_at(1).kind == TokenKind::Ident {
            self.bump();
            parts.push(self.ident()?);
        }
        Ok(Path {
            parts,
            span: self.since(start),
        })
    }

    /// `P` or `[P, Q]` (possibly empty).
    fn paths(&mut self) -> PResult<Vec<Path>> {
        if self.eat(TokenKind::LBracket).is_some() {
            let mut out = Vec::new();
            if self.eat(TokenKind::RBracket).is_some() {
                return Ok(out);
            }
            loop {
                out.push(self.path()?);
                if self.eat(TokenKind::Comma).is_none() {
                    break;
                }
            }
            self.expect(TokenKind::RBracket)?;
            Ok(out)
        } else {
            Ok(vec![self.path()?])
        }
    }

    // ----- annotations -----

    fn annotations(&mut self) -> PResult<Vec<Annotation>> {
        let mut out: Vec<Annotation> = Vec::new();
        let mut keys = std::collections::HashSet::new();
        while self.eat(TokenKind::At).is_some() {
            let key = self.any_ident()?;
            let value = if self.eat(TokenKind::LParen).is_some() {
                let v = self.string()?;
                self.expect(TokenKind::RParen)?;
                Some(v)
            } else {
                None
            };
            if !keys.insert(key.value.clone()) {
                return Err(Diagnostic::new(
                    format!("duplicate annotation: @{}", key.value),
                    key.span,
                ));
            }
            out.push(Annotation { key, value });
        }
        Ok(out)
    }

    // ----- declarations -----

    fn namespace(&mut self) -> PResult<Namespace> {
        let start = self.p.peek().span;
        let annotations = self.annotations()?;
        if self.at_word("namespace") && self.p.peek_at(1).kind == TokenKind::Ident {
            self.bump();
            let name = self.path()?;
            self.expect(TokenKind::LBrace)?;
            let mut decls = Vec::new();
            while !self.at(TokenKind::RBrace) {
                if self.at(TokenKind::Eof) {
                    return Err(self.p.unexpected("a declaration or `}`"));
                }
                let decl_start = self.p.peek().span;
                let annotations = self.annotations()?;
                decls.push(self.decl(annotations, decl_start)?);
            }
            self.expect(TokenKind::RBrace)?;
            Ok(Namespace {
                annotations,
                name: Some(name),
                decls,
                span: self.since(start),
            })
        } else {
            let decl = self.decl(annotations, start)?;
            Ok(Namespace {
                annotations: Vec::new(),
                name: None,
                span: decl.span,
                decls: vec![decl],
            })
        }
    }

    fn decl(&mut self, annotations: Vec<Annotation>, start: Span) -> PResult<Decl> {
        let kind = if self.eat_word("entity").is_some() {
            DeclKind::Entity(self.entity()?)
        } else if self.eat_word("action").is_some() {
            DeclKind::Action(self.action()?)
        } else if self.eat_word("type").is_some() {
            let name = self.ident()?;
            self.expect(TokenKind::Eq)?;
            let def = self.ty()?;
            self.expect(TokenKind::Semi)?;
            DeclKind::Type(TypeDecl { name, def })
        } else {
            return Err(self
                .p
                .unexpected("`namespace`, `entity`, `action` or `type`"));
        };
        Ok(Decl {
            annotations,
            kind,
            span: self.since(start),
        })
    }

    /// After `entity`.
    fn entity(&mut self) -> PResult<EntityDecl> {
        let mut names = vec![self.ident()?];
        while self.eat(TokenKind::Comma).is_some() {
            names.push(self.ident()?);
        }
        if self.eat_word("enum").is_some() {
            self.expect(TokenKind::LBracket)?;
            let mut ids = vec![self.string()?];
            while self.eat(TokenKind::Comma).is_some() {
                ids.push(self.string()?);
            }
            self.expect(TokenKind::RBracket)?;
            self.expect(TokenKind::Semi)?;
            return Ok(EntityDecl {
                names,
                body: EntityBody::Enum(ids),
            });
        }
        let parents = if self.eat_word("in").is_some() {
            self.paths()?
        } else {
            Vec::new()
        };
        let attrs = if self.eat(TokenKind::Eq).is_some() {
            if !self.at(TokenKind::LBrace) {
                return Err(self.p.unexpected("`{`"));
            }
            Some(TypeExpr::Record(self.record()?))
        } else if self.at(TokenKind::LBrace) {
            Some(TypeExpr::Record(self.record()?))
        } else {
            None
        };
        let tags = if self.eat_word("tags").is_some() {
            Some(self.ty()?)
        } else {
            None
        };
        if !self.at(TokenKind::Semi) {
            let expected = match (attrs.is_some(), tags.is_some()) {
                (_, true) => "`;`",
                (true, false) => "`tags` or `;`",
                (false, false) if parents.is_empty() => "`in`, `enum`, `{`, `tags` or `;`",
                (false, false) => "`{`, `tags` or `;`",
            };
            return Err(self.p.unexpected(expected));
        }
        self.expect(TokenKind::Semi)?;
        Ok(EntityDecl {
            names,
            body: EntityBody::Standard {
                parents,
                attrs,
                tags,
            },
        })
    }

    /// After `action`.
    fn action(&mut self) -> PResult<ActionDecl> {
        let mut names = vec![self.name("an action name")?];
        while self.eat(TokenKind::Comma).is_some() {
            names.push(self.name("an action name")?);
        }
        let parents = if self.eat_word("in").is_some() {
            if self.eat(TokenKind::LBracket).is_some() {
                let mut refs = vec![self.action_ref()?];
                while self.eat(TokenKind::Comma).is_some() {
                    refs.push(self.action_ref()?);
                }
                self.expect(TokenKind::RBracket)?;
                refs
            } else {
                vec![self.action_ref()?]
            }
        } else {
            Vec::new()
        };
        let applies_to = if let Some(kw) = self.eat_word("appliesTo") {
            Some(self.applies_to(kw.span)?)
        } else {
            None
        };
        if !self.at(TokenKind::Semi) {
            let expected = if applies_to.is_some() {
                "`;`"
            } else if parents.is_empty() {
                "`in`, `appliesTo` or `;`"
            } else {
                "`appliesTo` or `;`"
            };
            return Err(self.p.unexpected(expected));
        }
        self.expect(TokenKind::Semi)?;
        Ok(ActionDecl {
            names,
            parents,
            applies_to,
        })
    }

    /// `"name"`, `name`, or `Path::"name"`.
    fn action_ref(&mut self) -> PResult<ActionRef> {
        let start = self.p.peek().span;
        if self.at(TokenKind::Str) {
            let id = self.string()?;
            return Ok(ActionRef {
                ty: None,
                span: id.span,
                id,
            });
        }
        let path = self.path()?;
        if self.eat(TokenKind::ColonColon).is_some() {
            let id = self.string()?;
            return Ok(ActionRef {
                ty: Some(path),
                id,
                span: self.since(start),
            });
        }
        if path.is_qualified() {
            return Err(self.p.unexpected("`::` and a quoted action name"));
        }
        let span = path.span;
        match path.parts.into_iter().next() {
            Some(id) => Ok(ActionRef { ty: None, id, span }),
            None => Err(Diagnostic::new("expected an action name", span)),
        }
    }

    /// After `appliesTo`.
    fn applies_to(&mut self, kw: Span) -> PResult<AppliesTo> {
        self.expect(TokenKind::LBrace)?;
        let mut out = AppliesTo {
            principals: None,
            resources: None,
            context: None,
            span: kw,
        };
        loop {
            let key = match self.p.peek() {
                t if t.kind == TokenKind::Ident => t,
                _ => return Err(self.p.unexpected("`principal`, `resource` or `context`")),
            };
            let word = self.p.text_of(key);
            let dup = |what: &str| {
                Diagnostic::new(
                    format!("duplicate `{what}` declaration in `appliesTo`"),
                    key.span,
                )
            };
            match word {
                "principal" | "resource" => {
                    self.bump();
                    self.expect(TokenKind::Colon)?;
                    let tys = self.paths()?;
                    if tys.is_empty() {
                        // Cedar's text format forbids an empty list (the JSON format allows it).
                        return Err(Diagnostic::new(
                            format!("`{word}` in `appliesTo` must list at least one entity type"),
                            self.since(key.span),
                        ));
                    }
                    let slot = if word == "principal" {
                        &mut out.principals
                    } else {
                        &mut out.resources
                    };
                    if slot.is_some() {
                        return Err(dup(word));
                    }
                    *slot = Some(tys);
                }
                "context" => {
                    self.bump();
                    self.expect(TokenKind::Colon)?;
                    let ty = if self.at(TokenKind::LBrace) {
                        TypeExpr::Record(self.record()?)
                    } else if self.at(TokenKind::Ident) {
                        TypeExpr::Name(self.path()?)
                    } else {
                        return Err(self.p.unexpected("a record type or a common type name"));
                    };
                    if out.context.is_some() {
                        return Err(dup("context"));
                    }
                    out.context = Some(ty);
                }
                _ => return Err(self.p.unexpected("`principal`, `resource` or `context`")),
            }
            if self.eat(TokenKind::Comma).is_none() || self.at(TokenKind::RBrace) {
                break;
            }
        }
        self.expect(TokenKind::RBrace)?;
        out.span = self.since(kw);
        // In the text format an `appliesTo` block must name both principal and resource types.
        for (what, given) in [("principal", &out.principals), ("resource", &out.resources)] {
            if given.is_none() {
                return Err(Diagnostic::new(
                    format!("`appliesTo` must declare `{what}` types"),
                    out.span,
                ));
            }
        }
        Ok(out)
    }

    // ----- types -----

    fn ty(&mut self) -> PResult<TypeExpr> {
        self.nested(|s| {
            if s.at(TokenKind::LBrace) {
                return Ok(TypeExpr::Record(s.record()?));
            }
            if s.at_word("Set") && s.p.peek_at(1).kind == TokenKind::Lt {
                let start = s.bump().span;
                s.expect(TokenKind::Lt)?;
                let elem = s.ty()?;
                s.expect(TokenKind::Gt)?;
                return Ok(TypeExpr::Set(Box::new(elem), s.since(start)));
            }
            if s.at(TokenKind::Ident) {
                return Ok(TypeExpr::Name(s.path()?));
            }
            Err(s.p.unexpected("a type"))
        })
    }

    /// `{ a: T, "b"?: U, }`
    fn record(&mut self) -> PResult<RecordTypeExpr> {
        let start = self.expect(TokenKind::LBrace)?.span;
        let mut attrs = Vec::new();
        while !self.at(TokenKind::RBrace) {
            let annotations = self.annotations()?;
            let name = self.name("an attribute name or `}`")?;
            let required = self.eat(TokenKind::Question).is_none();
            self.expect(TokenKind::Colon)?;
            let ty = self.ty()?;
            attrs.push(AttrDecl {
                annotations,
                name,
                required,
                ty,
            });
            if self.eat(TokenKind::Comma).is_none() {
                break;
            }
        }
        if !self.at(TokenKind::RBrace) {
            return Err(self.p.unexpected("`,` or `}`"));
        }
        self.expect(TokenKind::RBrace)?;
        Ok(RecordTypeExpr {
            attrs,
            span: self.since(start),
        })
    }
}

#[cfg(test)]
#[allow(clippy::panic, clippy::unwrap_used, reason = "tests fail by panicking")]
mod tests {
    use super::*;

    #[test]
    fn parses_declarations() {
        let file = parse_schema_file(
            r#"@doc("x") namespace A::B {
                 @a @b("c") entity E, F in [G] = { "q"?: Set<Long>, @z r: {}, } tags String;
                 entity C enum ["x", "y"];
                 type T = Set<Set<E>>;
                 action "read", view in [A::Action::"g", h] appliesTo { context: T, principal: E, resource: [E, F] };
               }
               entity Top;"#,
        )
        .unwrap();
        assert_eq!(file.namespaces.len(), 2);
        let ns = &file.namespaces[0];
        assert_eq!(ns.name.as_ref().unwrap().full(), "A::B");
        assert_eq!(ns.decls.len(), 4);
        let DeclKind::Entity(e) = &ns.decls[0].kind else {
            panic!()
        };
        assert_eq!(e.names.len(), 2);
        let EntityBody::Standard {
            parents,
            attrs,
            tags,
        } = &e.body
        else {
            panic!()
        };
        assert_eq!(parents[0].full(), "G");
        let Some(TypeExpr::Record(attrs)) = attrs.as_ref() else {
            panic!()
        };
        assert_eq!(attrs.attrs[0].name.value, "q");
        assert!(!attrs.attrs[0].required);
        assert!(attrs.attrs[1].required);
        assert!(tags.is_some());
        let DeclKind::Action(a) = &ns.decls[3].kind else {
            panic!()
        };
        assert_eq!(a.names[0].value, "read");
        assert_eq!(a.parents[0].ty.as_ref().unwrap().full(), "A::Action");
        assert_eq!(a.parents[1].id.value, "h");
        let at = a.applies_to.as_ref().unwrap();
        assert_eq!(at.resources.as_ref().unwrap().len(), 2);
        assert_eq!(at.principals.as_ref().unwrap().len(), 1);
        assert!(file.namespaces[1].name.is_none());
    }

    #[test]
    fn reports_syntax_errors_at_the_token() {
        let text = "entity A { a: Long b: String };";
        let err = parse_schema_file(text).unwrap_err();
        assert_eq!(&text[err.span.range()], "b");
        let text = "entity A in;";
        let err = parse_schema_file(text).unwrap_err();
        assert_eq!(&text[err.span.range()], ";");
        let text = "action a appliesTo {};";
        assert!(parse_schema_file(text).is_err());
        let text = "entity E; action a appliesTo { principal: [], resource: E };";
        let err = parse_schema_file(text).unwrap_err();
        assert_eq!(&text[err.span.range()], "principal: []");
        let text = "entity E; action a appliesTo { principal: E, context: {} };";
        assert!(
            parse_schema_file(text)
                .unwrap_err()
                .message
                .contains("resource")
        );
        let text = "entity if;";
        let err = parse_schema_file(text).unwrap_err();
        assert!(err.message.contains("reserved"), "{}", err.message);
        let text = "@a @a entity X;";
        assert!(parse_schema_file(text).is_err());
        assert!(parse_schema_file("namespace N { entity A; ").is_err());
        assert!(parse_schema_file("entity A enum [];").is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!("type T = {}Long{};", "Set<".repeat(5000), ">".repeat(5000));
        assert!(parse_schema_file(&text).is_err());
        let text = format!("type T = {}{};", "{a: ".repeat(5000), "}".repeat(5000));
        assert!(parse_schema_file(&text).is_err());
    }
}
