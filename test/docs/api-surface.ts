import * as path from 'path';
import * as ts from 'typescript';

/** The public API as the source code declares it: what the READMEs must document. */
export interface ApiSurface {
  /** Public members of an `ImClient` instance. */
  methods: string[];
  /** Keys of `ImClientEvents`. */
  events: string[];
  /** Keys of `ImClientOptions`. */
  options: string[];
  /** Members of the `ImErrorCode` union. */
  errorCodes: string[];
  /** Private and protected members: on the runtime prototype too, but not part of the API. */
  privateMembers: string[];
}

/**
 * Reads the surface with the TypeScript checker rather than with regular expressions over the
 * source: the checker sees the instance type as an app does, so it follows declaration merging
 * (an `interface ImClient` that adds members elsewhere), inherited members and members written
 * on several lines, skips comments and overload bodies, and tells `private` from public. Reading
 * the built `.d.ts` would give the same answer but only after a build, which a single test run
 * does not do. `src/assembly.ts` builds the parts the class delegates to and attaches nothing to
 * the class itself; the test also compares the runtime prototype with this type, so a member
 * added there at runtime would be caught as well.
 */
export function readApiSurface(root: string): ApiSurface {
  const file = (rel: string) => path.join(root, rel);
  const files = { client: file('src/client.ts'), events: file('src/core/events.ts'), options: file('src/core/options.ts'), errors: file('src/core/errors.ts') };
  const program = ts.createProgram(Object.values(files), {
    strict: true,
    target: ts.ScriptTarget.ES2019,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    skipLibCheck: true,
    noEmit: true,
    types: [],
  });
  const checker = program.getTypeChecker();

  const exported = (fileName: string, name: string): ts.Symbol => {
    const source = program.getSourceFile(fileName);
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    const symbol = moduleSymbol && checker.getExportsOfModule(moduleSymbol).find((s) => s.name === name);
    if (!symbol) throw new Error(`${path.relative(root, fileName)} no longer exports ${name}: update test/docs/api-surface.ts`);
    return symbol;
  };
  const propertyNames = (type: ts.Type) => checker.getPropertiesOfType(type).map((s) => s.name);
  const isHidden = (s: ts.Symbol) =>
    s.name.startsWith('#') ||
    (s.declarations ?? []).some((d) => (ts.getCombinedModifierFlags(d) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !== 0);

  const clientType = checker.getDeclaredTypeOfSymbol(exported(files.client, 'ImClient'));
  const members = checker.getPropertiesOfType(clientType);
  const errorCodeType = checker.getDeclaredTypeOfSymbol(exported(files.errors, 'ImErrorCode'));
  const codes = errorCodeType.isUnion() ? errorCodeType.types : [errorCodeType];

  return {
    methods: members.filter((s) => !isHidden(s)).map((s) => s.name),
    privateMembers: members.filter(isHidden).map((s) => s.name),
    events: propertyNames(checker.getDeclaredTypeOfSymbol(exported(files.events, 'ImClientEvents'))),
    options: propertyNames(checker.getDeclaredTypeOfSymbol(exported(files.options, 'ImClientOptions'))),
    errorCodes: codes.map((t) => {
      if (!t.isStringLiteral()) throw new Error(`ImErrorCode has a member that is not a string literal: ${checker.typeToString(t)}`);
      return t.value;
    }),
  };
}
