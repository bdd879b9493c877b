" Vim syntax file for kd, the text language of neural-network graphs (kdsl).
" Keywords as in grammar/kd.lark; the highlight groups are listed at the end.

if exists('b:current_syntax')
  finish
endif

let s:cpo_save = &cpo
set cpo&vim

syn case match

" Comments: `##` lines (doc comments, the docstring of the model or block below) and `#`.
syn keyword kdTodo TODO FIXME XXX NOTE contained
syn match kdComment '#.*$' contains=kdTodo,@Spell
syn match kdDocComment '^\s*##.*$' contains=kdTodo,@Spell

" Strings with Python's escapes; a string ends at the end of its line.
syn match kdEscape +\\\%([\\'"abfnrtv]\|\o\{1,3}\|x\x\{2}\|u\x\{4}\|U\x\{8}\|N{[^}]\+}\)+ contained
syn region kdString start=+"+ skip=+\\.+ end=+"+ end=+$+ oneline contains=kdEscape
syn region kdString start=+'+ skip=+\\.+ end=+'+ end=+$+ oneline contains=kdEscape

" Numbers: 64, 1_000, 1e-3, 2., and (defined last, so they win) 0.25 and .5.
syn match kdNumber '\<\d\%(_\=\d\)*\%([eE][+-]\=\d\%(_\=\d\)*\)\=\>'
syn match kdNumber '\<\d\%(_\=\d\)*\.\d\@!\%([eE][+-]\=\d\%(_\=\d\)*\)\='
syn match kdNumber '\%(\w\|\.\)\@1<!\%(\d\%(_\=\d\)*\)\=\.\d\%(_\=\d\)*\%([eE][+-]\=\d\%(_\=\d\)*\)\=\>'

" Keywords (reserved).
syn keyword kdStatement output return
syn keyword kdRepeat for in
syn keyword kdConditional if else
syn keyword kdInclude import from
syn keyword kdOperatorWord and or not
syn keyword kdConstant True False None

" model NAME(PARAMS) / block NAME(PARAMS): the name, then the parameters and their defaults.
syn keyword kdDeclaration model block nextgroup=kdDefName skipwhite
syn match kdDefName '\h\w*' contained nextgroup=kdParams skipwhite
syn region kdParams matchgroup=kdDelimiter start='(' end=')' contained contains=kdComment,kdDocComment,kdParam,kdDefault
syn match kdParam '\<\h\w*\>' contained
syn region kdDefault matchgroup=kdOperator start='=' end='\ze[,)]' contained contains=@kdExpr,kdDict

" Calls: a layer class (CamelCase), a builtin or merge helper, compile, layout, ops.NAME (kd 1.1), a block or model.
syn match kdClass '\<\u\w*\ze('
syn match kdFunctionCall '\<\l\w*\ze('
syn match kdFunctionCall '\<_\w*\ze('
syn match kdBuiltin '\<\%(abs\|float\|int\|len\|max\|min\|range\|str\|compile\|layout\)\ze('
syn match kdBuiltin '\<\%(add\|average\|concatenate\|dot\|maximum\|minimum\|multiply\|subtract\)\ze('
syn match kdOpsNamespace '\<ops\ze\s*\.\s*\h'
syn match kdOpsFunction '\%(\<ops\s*\.\s*\)\@<=\h\w*'
" A ( after a name, ) or ] opens call arguments (defined after kdGroup, so it wins there);
" NAME= inside them is a keyword argument.
syn region kdGroup matchgroup=kdDelimiter start='(' end=')' contains=@kdExpr
syn region kdArguments matchgroup=kdDelimiter start='\%(\w\|)\|]\)\@1<=(' end=')' contains=@kdExpr,kdKeywordArg
syn match kdKeywordArg '\<\h\w*\ze\s*=\%(=\)\@!' contained
syn match kdBracket '[{}[\]]'
syn region kdDict matchgroup=kdDelimiter start='{' end='}' contained contains=@kdExpr

" from MODULE import NAME as ALIAS: `as` is a keyword only there.
syn match kdFromModule '\%(\<from\s\+\)\@<=\h\w*\%(\s*\.\s*\h\w*\)*'
syn match kdAs '\%(\<import\>.*\)\@<=\<as\>'
syn region kdImportList matchgroup=kdDelimiter start='\%(\<import\s*\)\@<=(' end=')' contains=kdComment,kdImportAs
syn match kdImportAs '\<as\>' contained

" Attributes: x.shape, base.trainable; `...` in subscripts (kd 1.1).
syn match kdProperty '\%(\.\s*\)\@<=\%(shape\|trainable\)\>'
syn match kdEllipsis '\.\.\.'

" Operators; `->` chains (defined last: it wins over `-` and `>`).
syn match kdOperator '\*\*\|//\|==\|!=\|<=\|>=\|[-+*/%<>=]'
syn match kdArrow '->'

syn cluster kdExpr contains=kdComment,kdString,kdNumber,kdStatement,kdRepeat,kdConditional,kdOperatorWord,kdConstant,
      \kdClass,kdFunctionCall,kdBuiltin,kdOpsNamespace,kdOpsFunction,kdArguments,kdGroup,kdProperty,kdEllipsis,
      \kdArrow,kdOperator,kdBracket

syn sync minlines=200

hi def link kdTodo Todo
hi def link kdComment Comment
hi def link kdDocComment SpecialComment
hi def link kdEscape SpecialChar
hi def link kdString String
hi def link kdNumber Number
hi def link kdStatement Statement
hi def link kdRepeat Repeat
hi def link kdConditional Conditional
hi def link kdInclude Include
hi def link kdAs Include
hi def link kdImportAs Include
hi def link kdFromModule Identifier
hi def link kdOperatorWord Operator
hi def link kdConstant Constant
hi def link kdDeclaration Keyword
hi def link kdDefName Function
hi def link kdParam Identifier
hi def link kdClass Type
hi def link kdFunctionCall Function
hi def link kdBuiltin Special
hi def link kdOpsNamespace Identifier
hi def link kdOpsFunction Special
hi def link kdKeywordArg Identifier
hi def link kdProperty Special
hi def link kdEllipsis Special
hi def link kdArrow Operator
hi def link kdOperator Operator
hi def link kdDelimiter Delimiter
hi def link kdBracket Delimiter

let b:current_syntax = 'kd'

let &cpo = s:cpo_save
unlet s:cpo_save
